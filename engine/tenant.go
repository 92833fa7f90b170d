package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// DeleteTenant removes a tenant and every row it owns, and returns how many
// rows it removed. With field encryption on, the tenant's keys are
// destroyed first (crypto-shredding): from then on no copy of its encrypted
// elements, in this database or in any backup of it, can be read, even if
// deleting the rows fails midway. It is an operator's act (`hearth tenant
// delete`), not an interaction of the tenant's: it takes no Principal and
// records no AuditEvent, since the tenant's audit log goes with it.
func (e *Engine) DeleteTenant(ctx context.Context, tenant string) (int64, error) {
	if tenant == "" {
		return 0, fhir.Errorf(fhir.KindInvalid, "no tenant given")
	}
	if s, ok := e.store.(*sealedStore); ok {
		if err := s.enc.Ring.Shred(ctx, tenant); err != nil {
			return 0, &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.DeleteTenant", Message: "the tenant's keys could not be destroyed", Cause: err}
		}
	}
	del, ok := e.rawStore().(store.TenantDeleter)
	if !ok {
		return 0, fhir.Errorf(fhir.KindNotSupported, "this store cannot delete tenants")
	}
	return del.DeleteTenant(ctx, tenant)
}

// rawStore is the store under field encryption, for what works on stored
// bytes as they are (deleting a tenant, re-encrypting).
func (e *Engine) rawStore() store.Resources {
	if s, ok := e.store.(*sealedStore); ok {
		return s.inner
	}
	return e.store
}
