package engine

import (
	"context"
	"errors"
	"net/http"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// auditType is the resource type the server writes and nobody else.
const auditType = "AuditEvent"

// Auditor is where the engine records AuditEvents: Log builds them and
// Committer makes them durable by group commit, with the writes they
// record. The engine builds the committer over its own store, so that the
// writes it commits pass through the same encryption as every other.
type Auditor struct {
	Log       *audit.Log
	Committer *audit.Committer
}

// WithAudit records an AuditEvent, built by log, for every interaction.
// Without it nothing is audited. Close the engine to stop its committer.
func WithAudit(log *audit.Log) Option { return func(e *Engine) { e.audit = &Auditor{Log: log} } }

// Auditor returns the engine's auditor (nil when audit is off), for other
// components that record events in the same chains.
func (e *Engine) Auditor() *Auditor { return e.audit }

// Close stops the audit committer; interactions that still need it fail.
func (e *Engine) Close() {
	if e.audit != nil {
		e.audit.Committer.Close()
	}
}

// readOnlyAudit refuses changes to AuditEvents through the API.
func readOnlyAudit(typ string) error {
	if typ == auditType {
		return fhir.Errorf(fhir.KindMethodNotAllowed, "AuditEvents are written by the server only")
	}
	return nil
}

// event describes an interaction for the audit log.
func (e *Engine) event(p Principal, interaction string, err error, refs ...Ref) audit.Event {
	ev := audit.Event{
		Interaction: interaction,
		Outcome:     audit.OutcomeOf(err),
		Subject:     p.Subject,
		FhirUser:    p.FhirUser,
		ClientID:    p.ClientID,
		IsUser:      p.forPolicy().Kind == "user",
		Address:     p.Address,
	}
	if err != nil {
		ev.OutcomeDesc = outcomeDesc(err)
	}
	for _, r := range refs {
		if r.Type != "" && r.ID != "" {
			ev.Entities = append(ev.Entities, audit.Ref{Type: r.Type, ID: r.ID, Version: r.Version})
		}
	}
	noteDecryptFailure(&ev, err) // field encryption (encrypt.go): name what failed to decrypt
	return ev
}

// outcomeDesc is what the client was told, never a cause meant for logs.
func outcomeDesc(err error) string {
	var fe *fhir.Error
	if errors.As(err, &fe) && fe.Kind != fhir.KindInternal && fe.Message != "" {
		return fe.Message
	}
	return fhir.KindOf(err).String()
}

// withPatients names the patients a resource body concerns.
func withPatients(ev audit.Event, rec store.Record) audit.Event {
	if len(rec.Body) > 0 {
		ev.Patients = audit.Patients(rec.Type, rec.ID, rec.Body)
	}
	return ev
}

// records builds the AuditEvents of evs.
func (e *Engine) records(evs []audit.Event) ([]audit.Record, error) {
	recs := make([]audit.Record, 0, len(evs))
	for _, ev := range evs {
		r, err := e.audit.Log.Record(ev)
		if err != nil {
			return nil, &fhir.Error{Kind: fhir.KindInternal, Op: "engine.audit", Message: "audit failure", Cause: err}
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// auditIn appends evs in tx, so they commit with the writes of tx. Call it
// last: it holds the tenant's audit chain lock until tx ends.
func (e *Engine) auditIn(ctx context.Context, tx store.Tx, evs ...audit.Event) error {
	if e.audit == nil || len(evs) == 0 {
		return nil
	}
	recs, err := e.records(evs)
	if err != nil {
		return err
	}
	return audit.Append(ctx, tx, recs...)
}

// commitWrite writes w with ev, the AuditEvent that records it, in one
// group commit; with audit off, in a transaction of its own. A write that
// lost its race is KindConflict and nothing of it is written.
func (e *Engine) commitWrite(ctx context.Context, tenant string, w store.Write, ev audit.Event) error {
	if e.audit == nil {
		return e.store.Tx(ctx, tenant, func(tx store.Tx) error { return tx.Put(ctx, w) })
	}
	recs, err := e.records([]audit.Event{ev})
	if err != nil {
		return err
	}
	return e.audit.Committer.CommitWrites(ctx, tenant, []store.Write{w}, recs...)
}

// commitAudit records evs durably before the caller answers: for reads,
// and for failures whose own transaction rolled back. The interaction's
// error stands; when it succeeded but its audit could not be written, the
// audit error fails it.
func (e *Engine) commitAudit(ctx context.Context, p Principal, opErr error, evs ...audit.Event) error {
	if e.audit == nil || len(evs) == 0 || p.Tenant == "" {
		return opErr
	}
	recs, err := e.records(evs)
	if err == nil {
		err = e.audit.Committer.Commit(ctx, p.Tenant, recs...)
	}
	if opErr != nil {
		return opErr
	}
	if err != nil {
		return &fhir.Error{Kind: fhir.KindUnavailable, Op: "engine.audit", Message: "the audit log cannot be written", Cause: err}
	}
	return nil
}

// auditWrite records a standalone write: on success its event is already
// in the write's transaction; a failure is recorded on its own.
func (e *Engine) auditWrite(ctx context.Context, p Principal, interaction, typ, id string, err error) error {
	if err == nil {
		return nil
	}
	return e.commitAudit(ctx, p, err, e.event(p, interaction, err, Ref{Type: typ, ID: id}))
}

// readAuditEvent reads an AuditEvent from the audit log, where the server
// keeps them; each has one version.
func (e *Engine) readAuditEvent(ctx context.Context, tenant, id string, version int64) (store.Record, error) {
	log, ok := e.store.(store.AuditLog)
	if !ok || (version != 0 && version != 1) {
		return store.Record{}, fhir.Errorf(fhir.KindNotFound, "AuditEvent/%s not found", id)
	}
	en, err := log.ReadAudit(ctx, tenant, id)
	if err != nil {
		return store.Record{}, err
	}
	return store.Record{Type: auditType, ID: id, Version: 1, LastUpdated: en.Recorded, Body: en.Body}, nil
}

// entryInteraction names the interaction a Bundle entry performed.
func entryInteraction(method string, res Result, version int64) string {
	switch method {
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		if res.Created {
			return "create"
		}
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	if version != 0 {
		return "vread"
	}
	return "read"
}
