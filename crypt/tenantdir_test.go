package crypt_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
)

func newTenantDir(t testing.TB, dir string, master crypt.Wrapper, previous ...crypt.Wrapper) *crypt.TenantDir {
	t.Helper()
	d, err := crypt.NewTenantDir(dir, master, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A ring over a TenantDir works as over the master key, keeps nothing in
// the key store that the master key opens, and after Shred nothing of the
// tenant decrypts, even from the key store's rows as they were before.
func TestTenantDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	master := newWrapper(t, 1)
	ks := newMemKeys()
	r := crypt.NewRing(ks, newTenantDir(t, dir, master))
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	odd := "Clinic/../Ünïcode"
	ct := encrypt(t, r, "gone", aad, "secret")
	keep := encrypt(t, r, "stays", aad, "kept")
	oddCT := encrypt(t, r, odd, aad, "odd")
	backup, _ := ks.TenantKeys(ctx, "gone")
	for _, k := range backup {
		if k.KEKID != crypt.TenantDirID {
			t.Errorf("%s key wrapped by %s", k.Purpose, k.KEKID)
		}
		if _, err := master.Unwrap(ctx, crypt.KeyContext{Tenant: "gone", Purpose: k.Purpose, Version: k.Version}, k.Wrapped); err == nil {
			t.Errorf("the master key alone unwraps the %s key", k.Purpose)
		}
	}
	// Each tenant has a file of its own; odd ids do not escape the
	// directory or share a file.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in the key directory, want 3", len(entries))
	}
	d := newTenantDir(t, dir, master)
	if p := d.Path(odd); filepath.Dir(p) != dir || !strings.HasPrefix(filepath.Base(p), "_") {
		t.Errorf("Path(%q) = %s", odd, p)
	}
	if tenants, err := d.Tenants(); err != nil || strings.Join(tenants, ",") != strings.Join([]string{odd, "gone", "stays"}, ",") {
		t.Errorf("Tenants = %q, %v", tenants, err)
	}
	decrypt(t, crypt.NewRing(ks, newTenantDir(t, dir, master)), odd, aad, oddCT, "odd")

	if err := r.Shred(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Path("gone")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file after Shred: %v", err)
	}
	// A backup of the key store from before the deletion, read with the
	// master key and the key directory: nothing.
	restored := newMemKeys()
	for _, k := range backup {
		restored.AddTenantKey(ctx, k)
	}
	failsDecrypt(t, crypt.NewRing(restored, newTenantDir(t, dir, master)), "backup after Shred", "gone", aad, ct)
	if _, err := crypt.NewRing(restored, newTenantDir(t, dir, master)).Decrypt(ctx, "gone", aad, ct); !errors.Is(err, crypt.ErrNoKey) {
		t.Errorf("backup after Shred: %v, want ErrNoKey", err)
	}
	decrypt(t, crypt.NewRing(ks, newTenantDir(t, dir, master)), "stays", aad, keep, "kept")
	if err := d.DestroyTenant(ctx, "gone"); err != nil {
		t.Errorf("destroying a destroyed key: %v", err)
	}
}

// A master key change re-seals the files and leaves the key store alone:
// the new master key reads them, the old one no longer does.
func TestTenantDirReseal(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	oldMaster, newMaster := newWrapper(t, 1), newWrapper(t, 2)
	ks := newMemKeys()
	aad := crypt.AAD("Patient", "p1", "Patient.name")
	ct := encrypt(t, crypt.NewRing(ks, newTenantDir(t, dir, oldMaster)), "t1", aad, "secret")
	before, _ := ks.TenantKeys(ctx, "t1")
	file, _ := os.ReadFile(newTenantDir(t, dir, oldMaster).Path("t1"))

	failsDecrypt(t, crypt.NewRing(ks, newTenantDir(t, dir, newMaster)), "new master before reseal", "t1", aad, ct)
	n, err := newTenantDir(t, dir, newMaster, oldMaster).Reseal(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Reseal = %d, %v", n, err)
	}
	if n, err := newTenantDir(t, dir, newMaster, oldMaster).Reseal(ctx); err != nil || n != 0 {
		t.Errorf("Reseal again = %d, %v; want nothing left to do", n, err)
	}
	decrypt(t, crypt.NewRing(ks, newTenantDir(t, dir, newMaster)), "t1", aad, ct, "secret")
	failsDecrypt(t, crypt.NewRing(ks, newTenantDir(t, dir, oldMaster)), "old master after reseal", "t1", aad, ct)
	after, _ := ks.TenantKeys(ctx, "t1")
	for i := range after {
		if !bytes.Equal(after[i].Wrapped, before[i].Wrapped) {
			t.Errorf("Reseal changed the stored %s key", after[i].Purpose)
		}
	}
	if now, _ := os.ReadFile(newTenantDir(t, dir, newMaster).Path("t1")); bytes.Equal(now, file) {
		t.Error("the key file did not change")
	}
}

// Servers sharing a directory agree on one key per tenant however many
// create it at once.
func TestTenantDirConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	master := newWrapper(t, 1)
	kc := crypt.KeyContext{Tenant: "new", Purpose: crypt.PurposeData, Version: 1}
	var wg sync.WaitGroup
	wrapped := make([][]byte, 8)
	for i := range wrapped {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := crypt.NewTenantDir(dir, master)
			if err == nil {
				wrapped[i], err = d.Wrap(ctx, kc, bytes.Repeat([]byte{byte(i)}, crypt.KeySize))
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	d := newTenantDir(t, dir, master)
	for i, w := range wrapped {
		key, err := d.Unwrap(ctx, kc, w)
		if err != nil || !bytes.Equal(key, bytes.Repeat([]byte{byte(i)}, crypt.KeySize)) {
			t.Errorf("wrapping %d does not unwrap under the tenant's one key: %v", i, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files, want 1 (temporary files left?)", len(entries))
	}
	// A key moved to another tenant does not unwrap.
	if _, err := d.Unwrap(ctx, crypt.KeyContext{Tenant: "other", Purpose: crypt.PurposeData, Version: 1}, wrapped[0]); err == nil {
		t.Error("a key unwrapped for another tenant")
	}
}
