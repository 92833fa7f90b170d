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
		return Result{}, err
	}
	var res Result
	err := e.store.Tx(ctx, p.Tenant, func(tx store.Tx) error {
		cur, err := tx.Read(ctx, typ, id)
		if fhir.IsKind(err, fhir.KindNotFound) {
			res.NoOp = true
			return nil
		}
		if err != nil {
			return err
		}
		if opt.IfMatch != 0 && cur.Version != opt.IfMatch {
			return fhir.Errorf(fhir.KindPreconditionFailed,
				"If-Match version %d is not the current version of %s/%s", opt.IfMatch, typ, id)
		}
		if cur.Deleted {
			res = Result{Record: cur, NoOp: true}
			return nil
		}
		rec := store.Record{Type: typ, ID: id, Version: cur.Version + 1, LastUpdated: e.stamp(), Deleted: true}
		if err := tx.Put(ctx, store.Write{Record: rec, PrevVersion: cur.Version}); err != nil {
			if fhir.IsKind(err, fhir.KindConflict) && opt.IfMatch != 0 {
				return fhir.Errorf(fhir.KindPreconditionFailed, "%s/%s changed since version %d", typ, id, opt.IfMatch)
			}
			return err
		}
		res = resultOf(rec, false)
		return nil
	})
	return res, err
}
