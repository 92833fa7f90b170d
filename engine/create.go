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
	res, err := e.create(ctx, p, typ, body, opt)
	return res, e.auditWrite(ctx, p, "create", typ, "", err)
}

func (e *Engine) create(ctx context.Context, p Principal, typ string, body []byte, opt CreateOptions) (Result, error) {
	if err := e.checkCreate(p, typ, opt); err != nil {
		return Result{}, err
	}
	if err := checkCompartment(p, typ, scope.Create, body); err != nil {
		return Result{}, err
	}
	id := e.newID()
	d, err := e.prepare(body, typ, id)
	if err != nil {
		return Result{}, err
	}
	if opt.IfNoneExist == "" {
		return e.createNew(ctx, p, typ, id, d)
	}
	var res Result
	err = e.store.Tx(ctx, p.Tenant, func(tx store.Tx) error {
		res, err = e.createIn(ctx, tx, p, typ, id, d, opt)
		if err != nil {
			return err
		}
		return e.auditIn(ctx, tx, withPatients(e.event(p, "create", nil, res.Touched...), res.Record))
	})
	return res, err
}

// createNew writes a new resource by group commit: nothing needs reading
// first, so the write and its AuditEvent join other requests' in one commit.
func (e *Engine) createNew(ctx context.Context, p Principal, typ, id string, d draft) (Result, error) {
	if err := e.checkWrite(ctx, p, "create", typ, id, d.obj.Bytes(), nil); err != nil {
		return Result{}, err
	}
	rec, err := d.record(typ, id, 1, e.stamp())
	if err != nil {
		return Result{}, err
	}
	res := resultOf(rec, true)
	ev := withPatients(e.event(p, "create", nil, res.Touched...), rec)
	if err := e.commitWrite(ctx, p.Tenant, store.Write{Record: rec, Index: d.index}, ev); err != nil {
		return Result{}, err
	}
	return res, nil
}

// checkCreate validates the type and the scopes a create needs.
func (e *Engine) checkCreate(p Principal, typ string, opt CreateOptions) error {
	if err := checkType(typ); err != nil {
		return err
	}
	if err := readOnlyAudit(typ); err != nil {
		return err
	}
	if err := allow(p, typ, scope.Create); err != nil {
		return err
	}
	if opt.IfNoneExist != "" {
		// The caller learns about an existing match, so it must be allowed to search.
		return allow(p, typ, scope.Search)
	}
	return nil
}

// createIn writes a prepared resource inside tx, unless a conditional-create
// query finds it already there.
func (e *Engine) createIn(ctx context.Context, tx store.Tx, p Principal, typ, id string, d draft, opt CreateOptions) (Result, error) {
	if opt.IfNoneExist != "" {
		found, done, err := e.existing(ctx, tx, p, typ, opt.IfNoneExist)
		if err != nil || done {
			return found, err
		}
	}
	if err := e.checkWrite(ctx, p, "create", typ, id, d.obj.Bytes(), nil); err != nil {
		return Result{}, err
	}
	rec, err := d.record(typ, id, 1, e.stamp())
	if err != nil {
		return Result{}, err
	}
	if err := tx.Put(ctx, store.Write{Record: rec, Index: d.index}); err != nil {
		return Result{}, err
	}
	return resultOf(rec, true), nil
}

// existing applies a conditional-create query: done is true when exactly one
// resource matched (returned in the result, nothing to create).
func (e *Engine) existing(ctx context.Context, tx store.Tx, p Principal, typ, query string) (Result, bool, error) {
	ids, err := e.match(ctx, tx, p, typ, query)
	if err != nil {
		return Result{}, false, err
	}
	switch len(ids) {
	case 0:
		return Result{}, false, nil
	case 1:
		rec, err := tx.Read(ctx, typ, ids[0])
		// The match goes back to the caller: as a read, hidden fields removed.
		if rec, err = e.guardRead(ctx, p, "read", typ, ids[0], rec, err); err != nil {
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
