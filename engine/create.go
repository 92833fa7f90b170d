package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// CreateOptions are the optional parts of a create.
type CreateOptions struct {
	// IfNoneExist is a conditional-create query: with one match nothing is
	// created and the match is returned; with several the create fails (412).
	IfNoneExist string
}

// Create stores a new resource under a server-assigned id. An id in the body
// is ignored, as the specification requires.
func (e *Engine) Create(ctx context.Context, p Principal, typ string, body []byte, opt CreateOptions) (Result, error) {
	if err := checkType(typ); err != nil {
		return Result{}, err
	}
	if err := allow(p, typ, scope.Create); err != nil {
		return Result{}, err
	}
	if opt.IfNoneExist != "" {
		// The caller learns about an existing match, so it must be allowed to search.
		if err := allow(p, typ, scope.Search); err != nil {
			return Result{}, err
		}
	}
	id := e.newID()
	d, err := e.prepare(body, typ, id)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = e.store.Tx(ctx, p.Tenant, func(tx store.Tx) error {
		if opt.IfNoneExist != "" {
			found, done, err := e.existing(ctx, tx, typ, opt.IfNoneExist)
			if err != nil || done {
				res = found
				return err
			}
		}
		rec, err := d.record(typ, id, 1, e.stamp())
		if err != nil {
			return err
		}
		if err := tx.Put(ctx, store.Write{Record: rec, Index: d.index}); err != nil {
			return err
		}
		res = resultOf(rec, true)
		return nil
	})
	return res, err
}

// existing applies a conditional-create query: done is true when exactly one
// resource matched (returned in the result, nothing to create).
func (e *Engine) existing(ctx context.Context, tx store.Tx, typ, query string) (Result, bool, error) {
	ids, err := e.match(ctx, tx, typ, query)
	if err != nil {
		return Result{}, false, err
	}
	switch len(ids) {
	case 0:
		return Result{}, false, nil
	case 1:
		rec, err := tx.Read(ctx, typ, ids[0])
		if err != nil {
			return Result{}, false, err
		}
		res := resultOf(rec, false)
		res.NoOp = true
		return res, true, nil
	default:
		return Result{}, false, fhir.Errorf(fhir.KindPreconditionFailed,
			"conditional create matched more than one %s", typ)
	}
}
