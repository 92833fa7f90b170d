package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Delete marks a resource deleted; reads then answer KindGone while history
// keeps every version. Deleting a missing or already deleted resource
// succeeds with NoOp, as the specification allows. Like an update, the
// current version is read outside any transaction and the delete marker
// group-committed on the condition that it is still current.
func (e *Engine) Delete(ctx context.Context, p Principal, typ, id string, opt UpdateOptions) (Result, error) {
	if err := target(p, typ, id, scope.Delete); err != nil {
		return Result{}, e.auditWrite(ctx, p, "delete", typ, id, err)
	}
	res, err := e.deleteCurrent(ctx, p, typ, id, opt.IfMatch)
	return res, e.auditWrite(ctx, p, "delete", typ, id, err)
}

func (e *Engine) deleteCurrent(ctx context.Context, p Principal, typ, id string, ifMatch int64) (Result, error) {
	for attempt := 1; ; attempt++ {
		cur, err := e.store.Read(ctx, p.Tenant, typ, id)
		if err == nil && !cur.Deleted && patientOnly(p, typ, scope.Delete) {
			if err := checkCompartment(p, typ, scope.Delete, cur.Body); err != nil {
				return Result{}, err
			}
		}
		res, w, err := e.deleteMarker(ctx, p, typ, id, ifMatch, cur, err)
		if err != nil {
			return Result{}, err
		}
		ev := e.event(p, "delete", nil, Ref{Type: typ, ID: id, Version: res.Record.Version})
		if w == nil {
			return res, e.commitAudit(ctx, p, nil, ev)
		}
		err = e.commitWrite(ctx, p.Tenant, *w, ev)
		if fhir.IsKind(err, fhir.KindConflict) {
			if ifMatch != 0 {
				return Result{}, lostRace(typ, id, ifMatch)
			}
			if attempt < maxAttempts {
				continue
			}
		}
		return res, err
	}
}

// deleteIn writes a delete marker inside tx (a Bundle entry).
func (e *Engine) deleteIn(ctx context.Context, tx store.Tx, p Principal, typ, id string, ifMatch int64) (Result, error) {
	cur, err := tx.Read(ctx, typ, id)
	res, w, err := e.deleteMarker(ctx, p, typ, id, ifMatch, cur, err)
	if err != nil || w == nil {
		return res, err
	}
	if err := tx.Put(ctx, *w); err != nil {
		if fhir.IsKind(err, fhir.KindConflict) && ifMatch != 0 {
			return Result{}, lostRace(typ, id, ifMatch)
		}
		return Result{}, err
	}
	return res, nil
}

// deleteMarker decides a delete of cur (read with readErr) and returns the
// marker to write, or none when there is nothing to delete.
func (e *Engine) deleteMarker(ctx context.Context, p Principal, typ, id string, ifMatch int64, cur store.Record, readErr error) (Result, *store.Write, error) {
	if readErr == nil || fhir.IsKind(readErr, fhir.KindNotFound) {
		var current []byte
		if readErr == nil && !cur.Deleted {
			current = cur.Body
		}
		if _, derr := e.decide(ctx, p, "delete", typ, id, current, nil); derr != nil {
			return Result{}, nil, derr
		}
	}
	if fhir.IsKind(readErr, fhir.KindNotFound) {
		return Result{NoOp: true}, nil, nil
	}
	if readErr != nil {
		return Result{}, nil, readErr
	}
	if ifMatch != 0 && cur.Version != ifMatch {
		return Result{}, nil, fhir.Errorf(fhir.KindPreconditionFailed,
			"If-Match version %d is not the current version of %s/%s", ifMatch, typ, id)
	}
	if cur.Deleted {
		return Result{Record: cur, NoOp: true}, nil, nil
	}
	rec := store.Record{Type: typ, ID: id, Version: cur.Version + 1, LastUpdated: e.stamp(), Deleted: true}
	return resultOf(rec, false), &store.Write{Record: rec, PrevVersion: cur.Version}, nil
}
