package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// runKeys runs the crypt.KeyStore and crypt.BodyStore parts of the
// contract, for backends that offer those capabilities.
func runKeys(t *testing.T, s store.Store) {
	ks, ok := s.(crypt.KeyStore)
	if !ok {
		t.Skip("backend does not implement crypt.KeyStore")
	}
	t.Run("Keys", func(t *testing.T) { testKeys(t, ks) })
	t.Run("KeysShred", func(t *testing.T) { testKeysShred(t, s, ks) })
	t.Run("KeysConcurrentRings", func(t *testing.T) { testKeysConcurrentRings(t, ks) })
	bs, ok := s.(crypt.BodyStore)
	if !ok {
		t.Skip("backend does not implement crypt.BodyStore")
	}
	t.Run("Bodies", func(t *testing.T) { testBodies(t, s, bs) })
}

// testKeys checks storing, listing, re-wrapping and deleting wrapped keys,
// tenant by tenant.
func testKeys(t *testing.T, ks crypt.KeyStore) {
	t.Parallel()
	ctx := context.Background()
	tenant, other := newTenant(t), newTenant(t)
	if keys, err := ks.TenantKeys(ctx, tenant); err != nil || len(keys) != 0 {
		t.Fatalf("TenantKeys of a new tenant = %v, %v; want none", keys, err)
	}
	key := func(tn string, p crypt.Purpose, v int, wrapped ...byte) crypt.WrappedKey {
		return crypt.WrappedKey{Tenant: tn, Purpose: p, Version: v, KEKID: "local:0011223344556677", Wrapped: wrapped, CreatedAt: at(v)}
	}
	// Added out of order: the listing orders by purpose, then version.
	want := []crypt.WrappedKey{
		key(tenant, crypt.PurposeData, 1, 0x00, 0x01, 0xfe, 0xff),
		key(tenant, crypt.PurposeData, 2, 0x02),
		key(tenant, crypt.PurposeData, 10, 0x0a),
		key(tenant, crypt.PurposeIndex, 1, 0x69),
	}
	for _, i := range []int{2, 3, 0, 1} {
		if err := ks.AddTenantKey(ctx, want[i]); err != nil {
			t.Fatalf("AddTenantKey %+v: %v", want[i], err)
		}
	}
	if err := ks.AddTenantKey(ctx, key(other, crypt.PurposeData, 1, 0x0f)); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, ks, "after adding", tenant, want)

	err := ks.AddTenantKey(ctx, key(tenant, crypt.PurposeData, 2, 0x99))
	checkKind(t, "AddTenantKey of an existing version", err, fhir.KindConflict)
	checkKeys(t, ks, "after a duplicate", tenant, want)

	rewrapped := want[1]
	rewrapped.KEKID, rewrapped.Wrapped = "local:8899aabbccddeeff", []byte{0x22, 0x00}
	if err := ks.RewrapTenantKey(ctx, rewrapped); err != nil {
		t.Fatal(err)
	}
	want[1] = rewrapped
	checkKeys(t, ks, "after RewrapTenantKey", tenant, want)
	checkKind(t, "RewrapTenantKey of a missing key", ks.RewrapTenantKey(ctx, key(tenant, crypt.PurposeData, 3, 1)), fhir.KindNotFound)
	checkKind(t, "RewrapTenantKey in another tenant", ks.RewrapTenantKey(ctx, key(newTenant(t), crypt.PurposeData, 1, 1)), fhir.KindNotFound)

	tenants, err := ks.KeyTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tenants, tenant) || !slices.Contains(tenants, other) || !slices.IsSorted(tenants) {
		t.Errorf("KeyTenants = %v, want sorted and holding %s and %s", tenants, tenant, other)
	}

	if err := ks.DeleteTenantKeys(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, ks, "after DeleteTenantKeys", tenant, nil)
	checkKeys(t, ks, "other tenant after DeleteTenantKeys", other, []crypt.WrappedKey{key(other, crypt.PurposeData, 1, 0x0f)})
	if err := ks.DeleteTenantKeys(ctx, tenant); err != nil {
		t.Errorf("DeleteTenantKeys again: %v", err)
	}
	if tenants, _ := ks.KeyTenants(ctx); slices.Contains(tenants, tenant) {
		t.Errorf("KeyTenants still lists %s", tenant)
	}
}

func checkKeys(t testing.TB, ks crypt.KeyStore, what, tenant string, want []crypt.WrappedKey) {
	t.Helper()
	got, err := ks.TenantKeys(context.Background(), tenant)
	if err != nil {
		t.Fatalf("%s: TenantKeys: %v", what, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d keys %+v, want %d", what, len(got), got, len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Tenant != w.Tenant || g.Purpose != w.Purpose || g.Version != w.Version || g.KEKID != w.KEKID ||
			!bytes.Equal(g.Wrapped, w.Wrapped) || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("%s: key %d = %+v, want %+v", what, i, g, w)
		}
	}
}

// testKeysShred encrypts a resource body with a Ring over the store, stores
// it, then shreds the tenant: the stored ciphertext no longer decrypts, for
// this ring or a new one (a restarted server, a restored copy of the data).
func testKeysShred(t *testing.T, s store.Store, ks crypt.KeyStore) {
	t.Parallel()
	ctx := context.Background()
	tenant, other := newTenant(t), newTenant(t)
	w, err := crypt.NewLocalWrapper(bytes.Repeat([]byte{0x42}, crypt.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ring := crypt.NewRing(ks, w)
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	seal := func(tn, pt string) []byte {
		if err := ring.EnsureKeys(ctx, tn); err != nil {
			t.Fatal(err)
		}
		ct, err := ring.Encrypt(ctx, tn, aad, []byte(pt))
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	ct, kept := seal(tenant, "Peter Chalmers"), seal(other, "Somebody Else")
	mustPut(t, s, tenant, store.Write{Record: rec("Binary", "b1", 1, at(0), ""), Tokens: nil})
	mustPut(t, s, tenant, store.Write{Record: store.Record{Type: "Binary", ID: "b1", Version: 2, LastUpdated: at(1), Body: ct}, PrevVersion: 1})

	if err := ring.Shred(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	stored, err := s.Read(ctx, tenant, "Binary", "b1")
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*crypt.Ring{"same ring": ring, "new ring": crypt.NewRing(ks, w)} {
		if pt, err := r.Decrypt(ctx, tenant, aad, stored.Body); !errors.Is(err, crypt.ErrNoKey) || pt != nil {
			t.Errorf("%s after shredding: %q, %v; want ErrNoKey", name, pt, err)
		}
		if pt, err := r.Decrypt(ctx, other, aad, kept); err != nil || string(pt) != "Somebody Else" {
			t.Errorf("%s: the other tenant's data: %q, %v", name, pt, err)
		}
	}
	if keys, _ := ks.TenantKeys(ctx, tenant); len(keys) != 0 {
		t.Errorf("%d keys left after shredding", len(keys))
	}
}

// testKeysConcurrentRings starts several rings (servers) on one new tenant
// at once: they agree on one DEK and one index key.
func testKeysConcurrentRings(t *testing.T, ks crypt.KeyStore) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	w, err := crypt.NewLocalWrapper(bytes.Repeat([]byte{0x43}, crypt.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	rings := []*crypt.Ring{crypt.NewRing(ks, w), crypt.NewRing(ks, w), crypt.NewRing(ks, w)}
	cts := make([][]byte, 9)
	var wg sync.WaitGroup
	for i := range cts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rings[i%len(rings)]
			err := r.EnsureKeys(ctx, tenant)
			var ct []byte
			if err == nil {
				ct, err = r.Encrypt(ctx, tenant, nil, []byte{byte(i)})
			}
			if err != nil {
				t.Error(err)
			}
			cts[i] = ct
		}()
	}
	wg.Wait()
	if keys, _ := ks.TenantKeys(ctx, tenant); len(keys) != 2 {
		t.Errorf("%d keys after concurrent first use, want 2", len(keys))
	}
	for i, ct := range cts {
		if pt, err := crypt.NewRing(ks, w).Decrypt(ctx, tenant, nil, ct); err != nil || !bytes.Equal(pt, []byte{byte(i)}) {
			t.Errorf("ciphertext %d: %v", i, err)
		}
	}
}
