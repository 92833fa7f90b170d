package crypt_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/crypt"
)

// clock is a settable clock for refresh tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newWrapper(t testing.TB, b byte) *crypt.LocalWrapper {
	t.Helper()
	w, err := crypt.NewLocalWrapper(testKey(b))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func newRing(t testing.TB, ks crypt.KeyStore, opts ...crypt.RingOption) *crypt.Ring {
	t.Helper()
	return crypt.NewRing(ks, newWrapper(t, 1), opts...)
}

// ensure creates the tenants' keys.
func ensure(t testing.TB, r *crypt.Ring, tenants ...string) {
	t.Helper()
	for _, tn := range tenants {
		if err := r.EnsureKeys(context.Background(), tn); err != nil {
			t.Fatalf("EnsureKeys %s: %v", tn, err)
		}
	}
}

// encrypt encrypts for tenant, creating its keys first if need be.
func encrypt(t testing.TB, r *crypt.Ring, tenant string, aad []byte, pt string) []byte {
	t.Helper()
	ensure(t, r, tenant)
	ct, err := r.Encrypt(context.Background(), tenant, aad, []byte(pt))
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return ct
}

func decrypt(t testing.TB, r *crypt.Ring, tenant string, aad, ct []byte, want string) {
	t.Helper()
	pt, err := r.Decrypt(context.Background(), tenant, aad, ct)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if string(pt) != want {
		t.Fatalf("Decrypt = %q, want %q", pt, want)
	}
}

// failsDecrypt checks that a ciphertext is refused with one of the
// package's errors and no data.
func failsDecrypt(t testing.TB, r *crypt.Ring, what, tenant string, aad, ct []byte) {
	t.Helper()
	pt, err := r.Decrypt(context.Background(), tenant, aad, ct)
	if err == nil {
		t.Errorf("%s: decrypted to %q", what, pt)
		return
	}
	if pt != nil {
		t.Errorf("%s: returned %d bytes with the error", what, len(pt))
	}
	if !errors.Is(err, crypt.ErrDecrypt) && !errors.Is(err, crypt.ErrMalformed) && !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("%s: error %v is not one of ErrDecrypt, ErrMalformed, ErrNoKey", what, err)
	}
}

// Encryption never creates keys: it may run inside a transaction.
func TestNoImplicitKeys(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeys()
	r := newRing(t, ks)
	if _, err := r.Encrypt(ctx, "t1", nil, []byte("x")); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("Encrypt without keys: %v", err)
	}
	if _, err := r.BlindIndex(ctx, "t1", "p", "v"); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("BlindIndex without keys: %v", err)
	}
	if _, err := r.PrefixTokens(ctx, "t1", "p", "v"); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("PrefixTokens without keys: %v", err)
	}
	if _, adds := ks.counts(); adds != 0 {
		t.Errorf("%d keys created", adds)
	}
	if err := r.EnsureKeys(ctx, ""); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("EnsureKeys for the empty tenant: %v", err)
	}
}

func TestRoundTrip(t *testing.T) {
	r := newRing(t, newMemKeys())
	aad := crypt.AAD("t1", "Patient", "p1", "Patient.name")
	for _, pt := range []string{"", "x", `[{"family":"Chalmers","given":["Peter","James"]}]`, string(bytes.Repeat([]byte("ü"), 5000))} {
		ct := encrypt(t, r, "t1", aad, pt)
		if len(pt) > 4 && bytes.Contains(ct, []byte(pt)) {
			t.Errorf("ciphertext contains the plaintext")
		}
		decrypt(t, r, "t1", aad, ct, pt)
		if v, err := crypt.VersionOf(ct); err != nil || v != 1 {
			t.Errorf("VersionOf = %d, %v; want 1", v, err)
		}
	}
	// Random nonces: the same plaintext never gives the same ciphertext.
	if bytes.Equal(encrypt(t, r, "t1", aad, "same"), encrypt(t, r, "t1", aad, "same")) {
		t.Error("two encryptions of one plaintext are equal")
	}
}

// Ciphertext moved to another tenant, resource or element, or altered in
// any way, fails to decrypt.
func TestBinding(t *testing.T) {
	r := newRing(t, newMemKeys())
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	ct := encrypt(t, r, "t1", aad, "Peter Chalmers")
	encrypt(t, r, "t2", aad, "other tenant's keys exist")

	failsDecrypt(t, r, "other tenant", "t2", aad, ct)
	failsDecrypt(t, r, "other resource", "t1", crypt.AAD("Patient", "p2", "Patient.name"), ct)
	failsDecrypt(t, r, "other element", "t1", crypt.AAD("Patient", "p1", "Patient.address"), ct)
	failsDecrypt(t, r, "other type", "t1", crypt.AAD("Practitioner", "p1", "Patient.name"), ct)
	// Length prefixes keep the boundaries between parts: no shifting.
	failsDecrypt(t, r, "shifted parts", "t1", crypt.AAD("Patient", "p1Patient", ".name"), ct)
	failsDecrypt(t, r, "no aad", "t1", nil, ct)
	failsDecrypt(t, r, "empty tenant", "", aad, ct)

	// Two ciphertexts swapped between elements or resources.
	other := encrypt(t, r, "t1", crypt.AAD("Patient", "p2", "Patient.name"), "Someone Else")
	failsDecrypt(t, r, "swapped between resources", "t1", aad, other)
	addr := encrypt(t, r, "t1", crypt.AAD("Patient", "p1", "Patient.address"), "1 Main St")
	failsDecrypt(t, r, "swapped between elements", "t1", aad, addr)

	for n := range len(ct) {
		failsDecrypt(t, r, "truncated", "t1", aad, ct[:n])
	}
	failsDecrypt(t, r, "extended", "t1", aad, append(bytes.Clone(ct), 0))
	for i := range len(ct) * 8 {
		bad := bytes.Clone(ct)
		bad[i/8] ^= 1 << (i % 8)
		failsDecrypt(t, r, "bit flipped", "t1", aad, bad)
	}
	// The version is authenticated: relabelling a v1 ciphertext as v2 fails
	// even once v2 exists.
	if _, err := r.Rotate(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	relabelled := bytes.Clone(ct)
	relabelled[1] = 2
	failsDecrypt(t, r, "relabelled version", "t1", aad, relabelled)
	decrypt(t, r, "t1", aad, ct, "Peter Chalmers")
}

func TestMalformed(t *testing.T) {
	r := newRing(t, newMemKeys())
	encrypt(t, r, "t1", nil, "make keys")
	for name, ct := range map[string][]byte{
		"nil":                  nil,
		"unknown format":       append([]byte{0x02, 0x01}, make([]byte, 40)...),
		"version 0":            append([]byte{0x01, 0x00}, make([]byte, 40)...),
		"non-minimal version":  append([]byte{0x01, 0x81, 0x00}, make([]byte, 40)...),
		"version overflow":     append([]byte{0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, make([]byte, 40)...),
		"too short for a tag":  append([]byte{0x01, 0x01}, make([]byte, 27)...),
		"unknown version":      append([]byte{0x01, 0x09}, make([]byte, 40)...),
		"zeroes, right length": append([]byte{0x01, 0x01}, make([]byte, 28)...),
	} {
		failsDecrypt(t, r, name, "t1", nil, ct)
	}
	if _, err := crypt.VersionOf([]byte("plain text")); !errors.Is(err, crypt.ErrMalformed) {
		t.Errorf("VersionOf plain text: %v", err)
	}
}

// Rotation: new encryptions use the new version at once; old ciphertext
// still decrypts; another process sees the new version after its refresh
// interval, and decrypts new-version ciphertext at once.
func TestRotate(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeys()
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRing(t, ks, crypt.WithRingClock(clk.now))
	other := newRing(t, ks, crypt.WithRingClock(clk.now))
	aad := crypt.AAD("Communication", "c1", "Communication.payload")

	v1 := encrypt(t, r, "t1", aad, "first")
	decrypt(t, other, "t1", aad, v1, "first")
	ver, err := r.Rotate(ctx, "t1")
	if err != nil || ver != 2 {
		t.Fatalf("Rotate = %d, %v; want 2", ver, err)
	}
	v2 := encrypt(t, r, "t1", aad, "second")
	if v, _ := crypt.VersionOf(v2); v != 2 {
		t.Errorf("after Rotate, new ciphertext is version %d", v)
	}
	decrypt(t, r, "t1", aad, v1, "first")
	decrypt(t, other, "t1", aad, v2, "second") // unknown version: reloads at once

	ver, _ = r.Rotate(ctx, "t1")
	if cur, _ := other.CurrentVersion(ctx, "t1"); cur != 2 {
		t.Errorf("other process before refresh: current %d, want its cached 2", cur)
	}
	clk.advance(crypt.DefaultRefresh)
	if cur, _ := other.CurrentVersion(ctx, "t1"); cur != ver || ver != 3 {
		t.Errorf("other process after refresh: current %d, want %d", cur, ver)
	}
	if v, _ := crypt.VersionOf(encrypt(t, other, "t1", aad, "third")); v != 3 {
		t.Errorf("other process encrypts with version %d, want 3", v)
	}

	infos, err := r.Keys(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	var data []int
	var index, current int
	for _, k := range infos {
		switch k.Purpose {
		case crypt.PurposeData:
			data = append(data, k.Version)
			if k.Current {
				current = k.Version
			}
		case crypt.PurposeIndex:
			index++
		}
		if k.KEKID == "" || k.CreatedAt.IsZero() {
			t.Errorf("key %+v lacks its KEK id or creation time", k)
		}
	}
	if len(data) != 3 || current != 3 || index != 1 {
		t.Errorf("keys: data versions %v current %d, %d index keys; want [1 2 3], 3, 1", data, current, index)
	}
	// Other tenants are untouched.
	encrypt(t, r, "t2", aad, "x")
	if cur, _ := r.CurrentVersion(ctx, "t2"); cur != 1 {
		t.Errorf("t2 current version %d, want 1", cur)
	}
}

// Many servers' worth of concurrent first writes and rotations agree on one
// set of keys.
func TestConcurrentKeyCreation(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeys()
	rings := []*crypt.Ring{newRing(t, ks), newRing(t, ks), newRing(t, ks)}
	var wg sync.WaitGroup
	cts := make([][]byte, 30)
	for i := range cts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := rings[i%3].EnsureKeys(ctx, "t1")
			var ct []byte
			if err == nil {
				ct, err = rings[i%3].Encrypt(ctx, "t1", nil, []byte{byte(i)})
			}
			if err != nil {
				t.Error(err)
			}
			cts[i] = ct
		}()
	}
	wg.Wait()
	if _, adds := ks.counts(); adds != 2 {
		t.Errorf("%d keys stored, want 2 (DEK v1 and the index key)", adds)
	}
	for i, ct := range cts {
		for _, r := range rings {
			pt, err := r.Decrypt(ctx, "t1", nil, ct)
			if err != nil || !bytes.Equal(pt, []byte{byte(i)}) {
				t.Fatalf("ciphertext %d: %v", i, err)
			}
		}
	}
	versions := make(chan int, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := rings[i%3].Rotate(ctx, "t1")
			if err != nil {
				t.Error(err)
			}
			versions <- v
		}()
	}
	wg.Wait()
	close(versions)
	seen := map[int]bool{}
	for v := range versions {
		if seen[v] {
			t.Errorf("version %d returned twice", v)
		}
		seen[v] = true
	}
}

// Shredding destroys the keys: nothing of the tenant decrypts any more, in
// this ring, in another, or after the tenant is recreated.
func TestShred(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeys()
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRing(t, ks, crypt.WithRingClock(clk.now))
	other := newRing(t, ks, crypt.WithRingClock(clk.now))
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	ct := encrypt(t, r, "gone", aad, "secret")
	keep := encrypt(t, r, "stays", aad, "kept")
	decrypt(t, other, "gone", aad, ct, "secret")
	tok, _ := r.BlindIndex(ctx, "gone", "Patient.identifier", "123")

	if err := r.Shred(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	failsDecrypt(t, r, "after shred", "gone", aad, ct)
	failsDecrypt(t, newRing(t, ks), "after shred, new process", "gone", aad, ct)
	clk.advance(crypt.DefaultRefresh)
	failsDecrypt(t, other, "after shred, other process after refresh", "gone", aad, ct)
	decrypt(t, r, "stays", aad, keep, "kept")

	// A tenant of the same name starting over gets new keys; the old data
	// stays unreadable and its tokens match nothing.
	encrypt(t, r, "gone", aad, "new life")
	failsDecrypt(t, r, "after shred and new keys", "gone", aad, ct)
	if tok2, _ := r.BlindIndex(ctx, "gone", "Patient.identifier", "123"); tok2 == tok {
		t.Error("blind index token survived shredding")
	}
	if err := r.Shred(ctx, "never-existed"); err != nil {
		t.Errorf("Shred of a tenant without keys: %v", err)
	}
}

// destroyingWrapper records DestroyTenant calls.
type destroyingWrapper struct {
	*crypt.LocalWrapper
	destroyed []string
}

func (d *destroyingWrapper) DestroyTenant(_ context.Context, tenant string) error {
	d.destroyed = append(d.destroyed, tenant)
	return nil
}

func TestShredDestroysTenantKEK(t *testing.T) {
	w := &destroyingWrapper{LocalWrapper: newWrapper(t, 3)}
	r := crypt.NewRing(newMemKeys(), w)
	encrypt(t, r, "t1", nil, "x")
	if err := r.Shred(context.Background(), "t1"); err != nil {
		t.Fatal(err)
	}
	if len(w.destroyed) != 1 || w.destroyed[0] != "t1" {
		t.Errorf("DestroyTenant calls %v, want [t1]", w.destroyed)
	}
}

// KEK rotation re-wraps keys and touches no data.
func TestRewrapKeys(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeys()
	oldKEK, newKEK := newWrapper(t, 1), newWrapper(t, 2)
	if oldKEK.ID() == newKEK.ID() || oldKEK.ID() != newWrapper(t, 1).ID() {
		t.Fatalf("KEK ids %s %s: want stable and distinct", oldKEK.ID(), newKEK.ID())
	}
	r := crypt.NewRing(ks, oldKEK)
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	cts := map[string][]byte{}
	for _, tenant := range []string{"a", "b", "c"} {
		cts[tenant] = encrypt(t, r, tenant, aad, "data of "+tenant)
	}
	r.Rotate(ctx, "b")
	tokA, _ := r.BlindIndex(ctx, "a", "p", "v")

	// A server holding both KEKs works throughout.
	both := crypt.NewRing(ks, newKEK, crypt.WithPreviousKEKs(oldKEK))
	decrypt(t, both, "a", aad, cts["a"], "data of a")

	if _, err := crypt.RewrapKeys(ctx, ks, newKEK); err == nil {
		t.Error("RewrapKeys without the old KEK succeeded")
	}
	rep, err := crypt.RewrapKeys(ctx, ks, newKEK, oldKEK)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tenants != 3 || rep.Rewrapped != 7 || rep.Current != 0 {
		t.Errorf("report %+v, want 3 tenants, 7 keys re-wrapped", rep)
	}
	if rep, _ := crypt.RewrapKeys(ctx, ks, newKEK, oldKEK); rep.Rewrapped != 0 || rep.Current != 7 {
		t.Errorf("second run %+v, want nothing to do", rep)
	}
	onlyNew := crypt.NewRing(ks, newKEK)
	for tenant, ct := range cts {
		decrypt(t, onlyNew, tenant, aad, ct, "data of "+tenant)
	}
	if tok, _ := onlyNew.BlindIndex(ctx, "a", "p", "v"); tok != tokA {
		t.Error("blind index changed with the KEK")
	}
	failsOld := crypt.NewRing(ks, oldKEK)
	if _, err := failsOld.Decrypt(ctx, "a", aad, cts["a"]); err == nil {
		t.Error("old KEK alone still unwraps re-wrapped keys")
	}
	for _, k := range mustKeys(t, onlyNew, "b") {
		if k.KEKID != newKEK.ID() {
			t.Errorf("key %+v not under the new KEK", k)
		}
	}
}

func mustKeys(t testing.TB, r *crypt.Ring, tenant string) []crypt.KeyInfo {
	t.Helper()
	infos, err := r.Keys(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return infos
}

// A wrapped key copied to another tenant or version does not unwrap.
func TestWrappedKeyBinding(t *testing.T) {
	ctx := context.Background()
	w := newWrapper(t, 1)
	kc := crypt.KeyContext{Tenant: "a", Purpose: crypt.PurposeData, Version: 1}
	wrapped, err := w.Wrap(ctx, kc, testKey(9))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.Unwrap(ctx, kc, wrapped); err != nil || !bytes.Equal(got, testKey(9)) {
		t.Fatalf("Unwrap: %v", err)
	}
	for _, other := range []crypt.KeyContext{
		{Tenant: "b", Purpose: crypt.PurposeData, Version: 1},
		{Tenant: "a", Purpose: crypt.PurposeIndex, Version: 1},
		{Tenant: "a", Purpose: crypt.PurposeData, Version: 2},
	} {
		if _, err := w.Unwrap(ctx, other, wrapped); err == nil {
			t.Errorf("unwrapped under %+v", other)
		}
	}
	if _, err := newWrapper(t, 2).Unwrap(ctx, kc, wrapped); err == nil {
		t.Error("unwrapped under another KEK")
	}
	if _, err := crypt.NewLocalWrapper(testKey(1)[:16]); err == nil {
		t.Error("NewLocalWrapper took a 16-byte key")
	}
}

// With the store unreachable, keys already in memory keep serving; a tenant
// whose keys were never loaded fails cleanly.
func TestStoreDown(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeys()
	clk := &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newRing(t, ks, crypt.WithRingClock(clk.now))
	ct := encrypt(t, r, "t1", nil, "x")
	ks.setDown(true)
	clk.advance(time.Hour)
	decrypt(t, r, "t1", nil, ct, "x")
	encrypt(t, r, "t1", nil, "y")
	if _, err := r.Encrypt(ctx, "t2", nil, []byte("z")); !errors.Is(err, errDown) {
		t.Errorf("new tenant with the store down: %v", err)
	}
	if err := r.EnsureKeys(ctx, "t2"); !errors.Is(err, errDown) {
		t.Errorf("EnsureKeys with the store down: %v", err)
	}
	ks.setDown(false)
	encrypt(t, r, "t2", nil, "z")
}

// Keys are read from the store once per refresh interval, not per call.
func TestKeysCached(t *testing.T) {
	ks := newMemKeys()
	r := newRing(t, ks)
	ct := encrypt(t, r, "t1", nil, "x")
	before, _ := ks.counts()
	for range 100 {
		decrypt(t, r, "t1", nil, ct, "x")
		encrypt(t, r, "t1", nil, "x")
	}
	if after, _ := ks.counts(); after != before {
		t.Errorf("%d key loads for 200 calls, want 0", after-before)
	}
}
