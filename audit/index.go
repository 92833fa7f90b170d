package audit

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// Index parameters: the AuditEvent search parameters the audit index keeps
// values of (store.AuditValue.Param). The date parameter reads the entry's
// recorded time, which the store keeps anyway; patient is the agent and
// entity values of type Patient, as R4 defines it, and has no values of
// its own.
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
// values come from. An element that field encryption seals is stored as an
// envelope the index cannot read, so it has no values: the engine refuses
// searches on it rather than find nothing.
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

// ValuesOf lists the searchable values of a stored AuditEvent, each once.
// It reads the body as stored: an element sealed by field encryption (an
// object with _enc where the element was) yields nothing, whatever its
// type. base is the server's FHIR base URL: references under it are
// local, as in every other search.
func ValuesOf(body []byte, base string) []store.AuditValue {
	var ae indexedEvent
	// A sealed envelope where a string or an array belongs is a type
	// error: encoding/json skips that element and fills the others.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(body, &ae); err != nil && !errors.As(err, &typeErr) {
		return nil
	}
	var ix indexer
	ix.add(ParamOutcome, "", ae.Outcome)
	ix.add(ParamType, ae.Type.System, ae.Type.Code)
	for _, c := range ae.Subtype {
		ix.add(ParamSubtype, c.System, c.Code)
	}
	ix.add(ParamSource, SourceType, ae.Source.Observer.Display)
	for _, a := range ae.Agent {
		ix.reference(ParamAgent, a.Who.Reference, base)
		ix.add(ParamAgentIdentifier, a.Who.Identifier.System, a.Who.Identifier.Value)
	}
	for _, e := range ae.Entity {
		ix.reference(ParamEntity, e.What.Reference, base)
	}
	return ix.rows
}

// indexedEvent is what the index reads of an AuditEvent.
type indexedEvent struct {
	Outcome string          `json:"outcome"`
	Type    indexedCoding   `json:"type"`
	Subtype []indexedCoding `json:"subtype"`
	Source  struct {
		Observer struct {
			Display string `json:"display"`
		} `json:"observer"`
	} `json:"source"`
	Agent []struct {
		Who struct {
			Reference  string `json:"reference"`
			Identifier struct {
				System string `json:"system"`
				Value  string `json:"value"`
			} `json:"identifier"`
		} `json:"who"`
	} `json:"agent"`
	Entity []struct {
		What struct {
			Reference string `json:"reference"`
		} `json:"what"`
	} `json:"entity"`
}

type indexedCoding struct {
	System string `json:"system"`
	Code   string `json:"code"`
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

// indexBatch is how many entries one index transaction covers: on SQLite
// it holds the one write lock, so it stays short.
const indexBatch = 200

// Index brings tenant's audit index up to the chain's head as it stands
// when Index starts: it reads the entries past the index position, takes
// their values from the stored bodies (ValuesOf) and writes them with the
// new position, a batch per transaction. Indexers running at once (another
// server, a search) do not write anything twice: the one that finds the
// position moved picks up from there. It returns how many entries it
// indexed.
func Index(ctx context.Context, log store.AuditLog, tenant, base string) (int, error) {
	head, err := log.AuditChain(ctx, tenant)
	if fhir.IsKind(err, fhir.KindNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	at, err := log.AuditIndexed(ctx, tenant)
	if err != nil {
		return 0, err
	}
	n := 0
	for at < head.Seq {
		page, err := log.ScanAudit(ctx, tenant, store.AuditQuery{After: at, Limit: indexBatch})
		if err != nil {
			return n, err
		}
		to := head.Seq // nothing left past at: a purge took it
		if len(page) > 0 {
			to = page[len(page)-1].Seq
		}
		for i := range page {
			page[i].Index = ValuesOf(page[i].Body, base)
		}
		err = log.IndexAudit(ctx, tenant, at, to, page)
		if fhir.IsKind(err, fhir.KindConflict) {
			if at, err = log.AuditIndexed(ctx, tenant); err != nil {
				return n, err
			}
			continue
		}
		if err != nil {
			return n, err
		}
		n += len(page)
		at = to
	}
	return n, nil
}

// Indexing is the background job of a running server that keeps every
// tenant's audit index close to its chain, so that a search, which
// indexes what is left first, rarely waits for it.
type Indexing struct {
	Log  store.AuditLog
	Base string // the server's FHIR base URL (see ValuesOf)
	// Every is the time between passes; 0 means 2 seconds.
	Every time.Duration
	// Ticks, when set, replaces the timer of Every (tests).
	Ticks <-chan time.Time
	// Logger hears of failures; nil logs nothing.
	Logger *slog.Logger
	// Done, when set, hears of every pass: entries indexed, first error.
	Done func(int, error)
}

// Run indexes every tenant now and then on every tick until ctx ends.
func (x Indexing) Run(ctx context.Context) {
	every(ctx, x.Every, 2*time.Second, x.Ticks, func() {
		n, err := IndexAll(ctx, x.Log, x.Base)
		if err != nil && ctx.Err() == nil && x.Logger != nil {
			x.Logger.ErrorContext(ctx, "audit index: pass failed", "err", err)
		}
		if x.Done != nil {
			x.Done(n, err)
		}
	})
}

// IndexAll indexes every tenant with an audit chain (see Index).
func IndexAll(ctx context.Context, log store.AuditLog, base string) (int, error) {
	tenants, err := log.AuditTenants(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range tenants {
		n, err := Index(ctx, log, t, base)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// every runs pass now and then on every tick (of ticks, or of a timer of
// interval d, def when d is 0) until ctx ends.
func every(ctx context.Context, d, def time.Duration, ticks <-chan time.Time, pass func()) {
	if ticks == nil {
		if d <= 0 {
			d = def
		}
		t := time.NewTicker(d)
		defer t.Stop()
		ticks = t.C
	}
	for {
		pass()
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}
