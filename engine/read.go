package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// reader is what reads go through: the store itself, or a transaction.
type reader interface {
	Read(ctx context.Context, typ, id string) (store.Record, error)
	ReadVersion(ctx context.Context, typ, id string, version int64) (store.Record, error)
}

// tenantReader scopes the store's reads to one tenant.
type tenantReader struct {
	st     store.Resources
	tenant string
}

func (r tenantReader) Read(ctx context.Context, typ, id string) (store.Record, error) {
	return r.st.Read(ctx, r.tenant, typ, id)
}

func (r tenantReader) ReadVersion(ctx context.Context, typ, id string, v int64) (store.Record, error) {
	return r.st.ReadVersion(ctx, r.tenant, typ, id, v)
}

// Read returns the current version of a resource: KindGone when it was
// deleted, KindNotFound when it never existed.
func (e *Engine) Read(ctx context.Context, p Principal, typ, id string) (Result, error) {
	res, err := e.readIn(ctx, tenantReader{e.store, p.Tenant}, p, typ, id, 0)
	return res, e.auditRead(ctx, p, "read", typ, id, res, err)
}

// VRead returns one version of a resource. A version that is a delete marker
// is KindGone.
func (e *Engine) VRead(ctx context.Context, p Principal, typ, id string, version int64) (Result, error) {
	if version < 1 {
		return Result{}, fhir.Errorf(fhir.KindNotFound, "no version %d of %s/%s", version, typ, id)
	}
	res, err := e.readIn(ctx, tenantReader{e.store, p.Tenant}, p, typ, id, version)
	return res, e.auditRead(ctx, p, "vread", typ, id, res, err)
}

// auditRead commits the AuditEvent of a standalone read before it answers.
func (e *Engine) auditRead(ctx context.Context, p Principal, interaction, typ, id string, res Result, err error) error {
	refs := res.Touched
	if len(refs) == 0 {
		refs = []Ref{{Type: typ, ID: id, Version: res.Record.Version}}
	}
	return e.commitAudit(ctx, p, err, withPatients(e.event(p, interaction, err, refs...), res.Record))
}

// readIn reads the current version (version 0) or one version through r.
func (e *Engine) readIn(ctx context.Context, r reader, p Principal, typ, id string, version int64) (Result, error) {
	if err := target(p, typ, id, scope.Read); err != nil {
		return Result{}, err
	}
	var (
		rec store.Record
		err error
	)
	interaction := "read"
	switch {
	case typ == auditType:
		rec, err = e.readAuditEvent(ctx, p.Tenant, id, version)
	case version == 0:
		rec, err = r.Read(ctx, typ, id)
	default:
		interaction = "vread"
		rec, err = r.ReadVersion(ctx, typ, id, version)
	}
	rec, err = e.guardRead(ctx, p, interaction, typ, id, rec, err)
	if err != nil {
		return Result{}, err
	}
	if rec.Deleted {
		msg := typ + "/" + id + " was deleted"
		if version != 0 {
			msg = "version " + itoa(version) + " of " + typ + "/" + id + " is a deletion"
		}
		return Result{Record: rec}, &fhir.Error{Kind: fhir.KindGone, Op: "engine.Read", Message: msg}
	}
	if err := checkCompartment(p, typ, scope.Read, rec.Body); err != nil {
		return Result{}, err
	}
	return resultOf(rec, false), nil
}
