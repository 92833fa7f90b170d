package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
)

// Read returns the current version of a resource: KindGone when it was
// deleted, KindNotFound when it never existed.
func (e *Engine) Read(ctx context.Context, p Principal, typ, id string) (Result, error) {
	if err := target(p, typ, id, scope.Read); err != nil {
		return Result{}, err
	}
	rec, err := e.store.Read(ctx, p.Tenant, typ, id)
	if err != nil {
		return Result{}, err
	}
	if rec.Deleted {
		return Result{Record: rec}, &fhir.Error{Kind: fhir.KindGone, Op: "engine.Read",
			Message: typ + "/" + id + " was deleted"}
	}
	return resultOf(rec, false), nil
}

// VRead returns one version of a resource. A version that is a delete marker
// is KindGone.
func (e *Engine) VRead(ctx context.Context, p Principal, typ, id string, version int64) (Result, error) {
	if err := target(p, typ, id, scope.Read); err != nil {
		return Result{}, err
	}
	if version < 1 {
		return Result{}, fhir.Errorf(fhir.KindNotFound, "no version %d of %s/%s", version, typ, id)
	}
	rec, err := e.store.ReadVersion(ctx, p.Tenant, typ, id, version)
	if err != nil {
		return Result{}, err
	}
	if rec.Deleted {
		return Result{Record: rec}, &fhir.Error{Kind: fhir.KindGone, Op: "engine.VRead",
			Message: "version " + itoa(version) + " of " + typ + "/" + id + " is a deletion"}
	}
	return resultOf(rec, false), nil
}
