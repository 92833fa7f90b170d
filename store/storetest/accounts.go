package storetest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// testTenants checks that EnsureTenant creates once and then leaves the
// tenant alone.
func testTenants(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	id := newTenant(t)
	want := store.Tenant{ID: id, Name: "St. Elsewhere", CreatedAt: at(0)}
	for _, tn := range []store.Tenant{want, want, {ID: id, Name: "Renamed", CreatedAt: at(9)}} {
		if err := s.EnsureTenant(ctx, tn); err != nil {
			t.Fatalf("EnsureTenant: %v", err)
		}
	}
	got, err := s.GetTenant(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != want.ID || got.Name != want.Name || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("GetTenant = %+v, want %+v", got, want)
	}
	_, err = s.GetTenant(ctx, newTenant(t))
	checkKind(t, "GetTenant unknown", err, fhir.KindNotFound)
}

// testClients checks client registration, lookup across tenants and the
// uniqueness of client ids.
func testClients(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant, other := newTenant(t), newTenant(t)
	id := "client-" + randomHex(t, 6)
	want := store.Client{
		Tenant: tenant, ID: id, Name: "EHR bridge",
		SecretHash: []byte{0x00, 0x01, 0xfe, 0xff, 'h'},
		Scopes:     "system/*.read system/Communication.write",
		CreatedAt:  at(0), Disabled: true,
	}
	if err := s.CreateClient(ctx, want); err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	got, err := s.LookupClient(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Tenant != want.Tenant || got.ID != want.ID || got.Name != want.Name || got.Scopes != want.Scopes ||
		!bytes.Equal(got.SecretHash, want.SecretHash) || !got.CreatedAt.Equal(want.CreatedAt) || got.Disabled != want.Disabled {
		t.Errorf("LookupClient = %+v, want %+v", got, want)
	}

	for _, tc := range []struct {
		name string
		c    store.Client
	}{
		{"same tenant", store.Client{Tenant: tenant, ID: id, CreatedAt: at(1)}},
		{"other tenant", store.Client{Tenant: other, ID: id, CreatedAt: at(1)}},
	} {
		t.Run("duplicate in "+tc.name, func(t *testing.T) {
			checkKind(t, "CreateClient", s.CreateClient(ctx, tc.c), fhir.KindConflict)
		})
	}
	if got, err := s.LookupClient(ctx, id); err != nil || got.Tenant != tenant || got.Name != want.Name {
		t.Errorf("client after duplicates = %+v, %v", got, err)
	}
	_, err = s.LookupClient(ctx, "unknown-"+randomHex(t, 6))
	checkKind(t, "LookupClient unknown", err, fhir.KindNotFound)
}

// testSigningKeys checks that keys round-trip and list newest first. Keys are
// server-wide, so the test only looks at the ones it added.
func testSigningKeys(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	prefix := "kid-" + randomHex(t, 6) + "-"
	added := []store.SigningKey{
		{ID: prefix + "old", Algorithm: "ES256", PrivateDER: []byte{0x30, 0x81, 0x87, 0x00}, CreatedAt: at(0)},
		{ID: prefix + "new", Algorithm: "ES256", PrivateDER: []byte{0x30, 0x82, 0xff}, CreatedAt: at(20)},
		{ID: prefix + "mid", Algorithm: "RS256", PrivateDER: bytes.Repeat([]byte{0xab}, 1200), CreatedAt: at(10)},
	}
	for _, k := range added {
		if err := s.AddSigningKey(ctx, k); err != nil {
			t.Fatalf("AddSigningKey %s: %v", k.ID, err)
		}
	}
	dup := added[0]
	dup.CreatedAt = at(30)
	checkKind(t, "AddSigningKey duplicate", s.AddSigningKey(ctx, dup), fhir.KindConflict)

	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ours []store.SigningKey
	for _, k := range keys {
		if strings.HasPrefix(k.ID, prefix) {
			ours = append(ours, k)
		}
	}
	want := []store.SigningKey{added[1], added[2], added[0]}
	if len(ours) != len(want) {
		t.Fatalf("SigningKeys has %d of ours, want %d", len(ours), len(want))
	}
	for i := range want {
		g, w := ours[i], want[i]
		if g.ID != w.ID || g.Algorithm != w.Algorithm || !bytes.Equal(g.PrivateDER, w.PrivateDER) || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("key %d = %s %s %v, want %s %s %v", i, g.ID, g.Algorithm, g.CreatedAt, w.ID, w.Algorithm, w.CreatedAt)
		}
	}
}

// testMigrateAgain checks that migrating a migrated store changes nothing.
func testMigrateAgain(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	w := store.Write{Record: rec("Patient", "m", 1, at(0), ""), Tokens: []store.Token{{Param: "identifier", Code: "m"}}}
	mustPut(t, s, tenant, w)
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	got, err := read(t, s, tenant, "Patient", "m")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "Read after Migrate", got, w.Record)
	if ids := findTokens(t, s, tenant, store.TokenQuery{Type: "Patient", Param: "identifier", AnySystem: true, Code: "m"}); len(ids) != 1 {
		t.Errorf("tokens after Migrate: %v", ids)
	}
}
