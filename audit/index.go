package audit

import (
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// Index parameters: the AuditEvent search parameters the audit log keeps
// values of (store.AuditValue.Param). The date parameter reads the
// entry's recorded time, which the store keeps anyway; patient is the
// agent and entity values of type Patient, as R4 defines it, and has no
// values of its own (every append writes each value once: the index is on
// the hot path).
const (
	ParamAgent           = "agent"
	ParamAgentIdentifier = "agent:identifier"
	ParamEntity          = "entity"
	ParamPatient         = "patient"
	ParamType            = "type"
	ParamSubtype         = "subtype"
	ParamOutcome         = "outcome"
	ParamSource          = "source"
)

// SourceType is the resource type the observer (this server) is indexed
// under for the source parameter: source=hearth and source=Device/hearth
// find the events a server named hearth recorded.
const SourceType = "Device"

// IndexedElements maps each index parameter to the AuditEvent elements its
// values come from, so that field encryption can leave out the values of
// encrypted elements.
var IndexedElements = map[string][]string{
	ParamAgent:           {"AuditEvent.agent.who"},
	ParamAgentIdentifier: {"AuditEvent.agent.who"},
	ParamEntity:          {"AuditEvent.entity.what"},
	ParamPatient:         {"AuditEvent.agent.who", "AuditEvent.entity.what"},
	ParamType:            {"AuditEvent.type"},
	ParamSubtype:         {"AuditEvent.subtype"},
	ParamOutcome:         {"AuditEvent.outcome"},
	ParamSource:          {"AuditEvent.source.observer"},
}

// index lists the searchable values of an AuditEvent, each once. base is
// the server's FHIR base URL: references under it are local, as in every
// other search. Migration 0008 computes the same values in SQL for
// entries appended before the index existed; index_test.go keeps the two
// in step.
func (ae *auditEvent) index(base string) []store.AuditValue {
	var ix indexer
	ix.add(ParamOutcome, "", string(ae.Outcome))
	ix.add(ParamType, ae.Type.System, ae.Type.Code)
	for _, s := range ae.Subtype {
		ix.add(ParamSubtype, s.System, s.Code)
	}
	ix.add(ParamSource, SourceType, ae.Source.Observer.Display)
	for _, a := range ae.Agent {
		if a.Who == nil {
			continue
		}
		ix.reference(ParamAgent, a.Who.Reference, base)
		if id := a.Who.Identifier; id != nil {
			ix.add(ParamAgentIdentifier, id.System, id.Value)
		}
	}
	for _, e := range ae.Entity {
		if e.What != nil {
			ix.reference(ParamEntity, e.What.Reference, base)
		}
	}
	return ix.rows
}

// indexer collects distinct index values.
type indexer struct{ rows []store.AuditValue }

func (ix *indexer) add(param, system, value string) {
	if value == "" {
		return
	}
	v := store.AuditValue{Param: param, System: system, Value: value}
	for _, r := range ix.rows {
		if r == v {
			return
		}
	}
	ix.rows = append(ix.rows, v)
}

// reference indexes a literal reference as type and id (the version left
// out), or as a URL when it is not local.
func (ix *indexer) reference(param, ref, base string) {
	if ref == "" {
		return
	}
	typ, id, url := search.SplitReference(ref, base)
	if url != "" {
		ix.add(param, "", url)
		return
	}
	ix.add(param, typ, id)
}
