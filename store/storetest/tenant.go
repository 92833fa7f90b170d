package storetest

import (
	"context"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// testDeleteTenant fills two tenants with a resource (history and token
// rows), a client, a user, an audit chain and keys, deletes one, and checks
// that none of its rows is left while the other tenant keeps all of its.
func testDeleteTenant(t *testing.T, s store.Store) {
	del, ok := s.(store.TenantDeleter)
	if !ok {
		t.Skip("backend does not implement store.TenantDeleter")
	}
	t.Parallel()
	ctx := context.Background()
	gone, kept := newTenant(t), newTenant(t)
	for _, tenant := range []string{gone, kept} {
		if err := s.EnsureTenant(ctx, store.Tenant{ID: tenant, Name: tenant, CreatedAt: at(0)}); err != nil {
			t.Fatal(err)
		}
		w := store.Write{Record: rec("Patient", "p1", 1, at(1), ""), Tokens: []store.Token{{Param: "identifier", System: "s", Code: "c"}}}
		mustPut(t, s, tenant, w)
		w.Record = rec("Patient", "p1", 2, at(2), "")
		w.PrevVersion = 1
		mustPut(t, s, tenant, w)
		if err := s.CreateClient(ctx, store.Client{Tenant: tenant, ID: "c-" + tenant, CreatedAt: at(0)}); err != nil {
			t.Fatal(err)
		}
		if u, ok := s.(store.Users); ok {
			if err := u.CreateUser(ctx, store.User{Tenant: tenant, ID: "u1", Username: "alice", CreatedAt: at(0)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := appendAudit(ctx, s, tenant, at(3), "a-"+tenant); err != nil {
			t.Fatal(err)
		}
		if ks, ok := s.(crypt.KeyStore); ok {
			if err := ks.AddTenantKey(ctx, crypt.WrappedKey{Tenant: tenant, Purpose: crypt.PurposeData, Version: 1, KEKID: "k", Wrapped: []byte{1}, CreatedAt: at(0)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	n, err := del.DeleteTenant(ctx, gone)
	// tenant, 1 current row, 2 history rows, 1 token row, client, user,
	// audit entry and chain head, key: at least 9 rows.
	if err != nil || n < 9 {
		t.Fatalf("DeleteTenant = %d, %v; want at least 9 rows", n, err)
	}
	if n, err := del.DeleteTenant(ctx, gone); err != nil || n != 0 {
		t.Errorf("DeleteTenant again = %d, %v; want 0, nil", n, err)
	}
	for _, tc := range []struct {
		tenant string
		live   bool
	}{{gone, false}, {kept, true}} {
		what := "deleted tenant"
		if tc.live {
			what = "other tenant"
		}
		_, err := read(t, s, tc.tenant, "Patient", "p1")
		hist, _ := allHistory(t, s, tc.tenant, store.HistoryQuery{})
		tokens := findTokens(t, s, tc.tenant, store.TokenQuery{Type: "Patient", Param: "identifier", System: "s", Code: "c"})
		_, terr := s.GetTenant(ctx, tc.tenant)
		_, cerr := s.LookupClient(ctx, "c-"+tc.tenant)
		_, aerr := s.(store.AuditLog).AuditChain(ctx, tc.tenant)
		if tc.live != (err == nil) || tc.live != (len(hist) == 2) || tc.live != (len(tokens) == 1) ||
			tc.live != (terr == nil) || tc.live != (cerr == nil) || tc.live != (aerr == nil) {
			t.Errorf("%s: read %v, %d history rows, %d token rows, tenant %v, client %v, audit chain %v",
				what, err, len(hist), len(tokens), terr, cerr, aerr)
		}
		if !tc.live {
			checkKind(t, what+": read", err, fhir.KindNotFound)
		}
		if u, ok := s.(store.Users); ok {
			if _, err := u.UserByName(ctx, tc.tenant, "alice"); tc.live != (err == nil) {
				t.Errorf("%s: user %v", what, err)
			}
		}
		if ks, ok := s.(crypt.KeyStore); ok {
			if keys, err := ks.TenantKeys(ctx, tc.tenant); err != nil || tc.live != (len(keys) == 1) {
				t.Errorf("%s: %d keys, %v", what, len(keys), err)
			}
		}
	}
}
