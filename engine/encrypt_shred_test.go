package engine_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

// TestDeletedTenantUnreadableInBackups is crypto-shredding as an operator
// meets it. Two tenants' data is written under keys the master key wraps in
// the database (as before tenant key directories), moved under tenant keys
// kept in a directory, and more data is written. A copy of the whole
// database is taken, as a backup would be, and reads fine. Then one tenant
// is deleted. The copy still holds that tenant's rows and wrapped keys, and
// the operator still has the master key and the key directory, yet none of
// its data decrypts any more, while the other tenant's data in the same
// copy still does.
func TestDeletedTenantUnreadableInBackups(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			ks := b.st.(crypt.KeyStore)
			master, _ := crypt.NewLocalWrapper(bytes.Repeat([]byte{0x5a}, crypt.KeySize))
			keyDir := t.TempDir()
			tenantDir := func(t testing.TB) *crypt.TenantDir {
				d, err := crypt.NewTenantDir(keyDir, master)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			create := func(e *engine.Engine, tenant string) string {
				t.Helper()
				res, err := e.Create(ctx, principal(t, tenant), "Patient", []byte(markedResources[0].body), engine.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return res.Record.ID
			}

			// Before tenant keys: the master key wraps the keys in the database.
			legacy := newEngine(t, b.st, crypt.NewRing(ks, master), &failures{})
			ids := map[string][]string{"doomed": {create(legacy, "doomed")}, "kept": {create(legacy, "kept")}}
			oldWrapped, err := ks.TenantKeys(ctx, "doomed")
			if err != nil || len(oldWrapped) != 2 {
				t.Fatalf("legacy keys: %v, %v", oldWrapped, err)
			}

			// The move, as `hearth serve` makes it at start.
			rep, err := crypt.RewrapKeys(ctx, ks, tenantDir(t), master)
			if err != nil || rep.Rewrapped != 4 {
				t.Fatalf("RewrapKeys = %+v, %v; want 4 keys moved", rep, err)
			}
			for _, tenant := range []string{"doomed", "kept"} {
				keys, _ := ks.TenantKeys(ctx, tenant)
				for _, k := range keys {
					if k.KEKID != crypt.TenantDirID {
						t.Errorf("%s %s key %d still wrapped by %s", tenant, k.Purpose, k.Version, k.KEKID)
					}
				}
				if _, err := os.Stat(tenantDir(t).Path(tenant)); err != nil {
					t.Errorf("no key file for %s: %v", tenant, err)
				}
			}
			var fails failures
			e := newEngine(t, b.st, crypt.NewRing(ks, tenantDir(t), crypt.WithPreviousKEKs(master)), &fails)
			for tenant := range ids {
				ids[tenant] = append(ids[tenant], create(e, tenant))
			}

			// Nor does the database keep the keys as the master key wrapped
			// them before the move: every byte of the SQLite files (free
			// space and log included), every row of a pg_dump.
			dump := b.dump(t)
			for _, k := range oldWrapped {
				if bytes.Contains(dump, k.Wrapped) {
					t.Errorf("the %s key as the master key wrapped it is still in the database", k.Purpose)
				}
			}

			backup := b.snapshot(t)
			// reads opens every resource of tenant in the backup with the
			// master key and the key directory, as a restore would.
			reads := func(tenant string) []error {
				t.Helper()
				var errs []error
				be := newEngine(t, backup, crypt.NewRing(backup.(crypt.KeyStore), tenantDir(t), crypt.WithPreviousKEKs(master)), &fails)
				for _, id := range ids[tenant] {
					res, err := be.Read(ctx, principal(t, tenant), "Patient", id)
					if err == nil && !bytes.Contains(res.Record.Body, []byte(marker)) {
						err = errors.New("read without the marker")
					}
					if err != nil && bytes.Contains(res.Record.Body, []byte(marker)) {
						t.Errorf("%s/%s: an error came with data", tenant, id)
					}
					errs = append(errs, err)
				}
				return errs
			}
			for _, tenant := range []string{"doomed", "kept"} {
				if err := errors.Join(reads(tenant)...); err != nil {
					t.Fatalf("the backup before the deletion does not read for %s: %v", tenant, err)
				}
			}

			n, err := e.DeleteTenant(ctx, "doomed")
			if err != nil || n == 0 {
				t.Fatalf("DeleteTenant = %d, %v", n, err)
			}
			if _, err := os.Stat(tenantDir(t).Path("doomed")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the key file of the deleted tenant: %v", err)
			}
			// A token issued before the deletion still reads (not found), and
			// its AuditEvent starts the tenant anew, new keys and all: that
			// must not revive the old data either.
			if _, err := e.Read(ctx, principal(t, "doomed"), "Patient", ids["doomed"][0]); !fhir.IsKind(err, fhir.KindNotFound) {
				t.Errorf("live read of the deleted tenant: %v, want not found", err)
			}

			// The backup still holds everything of the deleted tenant but
			// its key, which was never in the database.
			if keys, _ := backup.(crypt.KeyStore).TenantKeys(ctx, "doomed"); len(keys) != 2 {
				t.Fatalf("the backup holds %d keys of the deleted tenant, want its 2: the test proves nothing", len(keys))
			}
			if rec, err := backup.Read(ctx, "doomed", "Patient", ids["doomed"][1]); err != nil || len(rec.Body) == 0 {
				t.Fatalf("the backup lost the deleted tenant's rows (%v): the test proves nothing", err)
			}
			for i, err := range reads("doomed") {
				if !fhir.IsKind(err, fhir.KindInternal) || !errors.Is(err, crypt.ErrNoKey) && !errors.Is(err, crypt.ErrDecrypt) {
					t.Errorf("backup, deleted tenant, resource %d: %v; want an internal error for want of its key", i, err)
				}
			}
			if err := errors.Join(reads("kept")...); err != nil {
				t.Errorf("backup, other tenant: %v", err)
			}
			// The master key alone opens none of the keys in the backup.
			bare := newEngine(t, backup, crypt.NewRing(backup.(crypt.KeyStore), master), &fails)
			if _, err := bare.Read(ctx, principal(t, "doomed"), "Patient", ids["doomed"][0]); !fhir.IsKind(err, fhir.KindInternal) {
				t.Errorf("backup read with the master key alone: %v", err)
			}
		})
	}
}
