package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Delete marks a resource deleted; reads then answer KindGone while history
// keeps every version. Deleting a missing or already deleted resource
// succeeds with NoOp, as the specification allows.
func (e *Engine) Delete(ctx context.Context, p Principal, typ, id string, opt UpdateOptions) (Result, error) {
	if err := target(p, typ, id, scope.Delete); err != nil {
		return Result{}, e.auditWrite(ctx, p, "delete", typ, id, err)
	}
	var res Result
	err := e.store.Tx(ctx, p.Tenant, func(tx store.Tx) error {
		if err := checkCompartmentOf(ctx, tx, p, typ, id, scope.Delete); err != nil {
			return err
		}
		var err error
		res, err = e.deleteIn(ctx, tx, p, typ, id, opt.IfMatch)
		if err != nil {
			return err
		}
		return e.auditIn(ctx, tx, e.event(p, "delete", nil, Ref{Type: typ, ID: id, Version: res.Record.Version}))
	})
	return res, e.auditWrite(ctx, p, "delete", typ, id, err)
}

// deleteIn writes a delete marker inside tx.
func (e *Engine) deleteIn(ctx context.Context, tx store.Tx, p Principal, typ, id string, ifMatch int64) (Result, error) {
	cur, err := tx.Read(ctx, typ, id)
	if err == nil || fhir.IsKind(err, fhir.KindNotFound) {
		var current []byte
		if err == nil && !cur.Deleted {
			current = cur.Body
		}
		if _, derr := e.decide(ctx, p, "delete", typ, id, current, nil); derr != nil {
			return Result{}, derr
		}
	}
	if fhir.IsKind(err, fhir.KindNotFound) {
		return Result{NoOp: true}, nil
	}
	if err != nil {
		return Result{}, err
	}
	if ifMatch != 0 && cur.Version != ifMatch {
		return Result{}, fhir.Errorf(fhir.KindPreconditionFailed,
			"If-Match version %d is not the current version of %s/%s", ifMatch, typ, id)
	}
	if cur.Deleted {
		return Result{Record: cur, NoOp: true}, nil
	}
	rec := store.Record{Type: typ, ID: id, Version: cur.Version + 1, LastUpdated: e.stamp(), Deleted: true}
	if err := tx.Put(ctx, store.Write{Record: rec, PrevVersion: cur.Version}); err != nil {
		if fhir.IsKind(err, fhir.KindConflict) && ifMatch != 0 {
			return Result{}, lostRace(typ, id, ifMatch)
		}
		return Result{}, err
	}
	return resultOf(rec, false), nil
}
