package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// TestTenantDelete runs `hearth tenant delete` on an SQLite data directory
// with the tenant keys in a directory of their own: it refuses without
// --yes, then destroys the tenant's key file and deletes its rows, and
// leaves the other tenant as it was.
func TestTenantDelete(t *testing.T) {
	dir, keyDir := t.TempDir(), t.TempDir()
	flags := []string{"--data-dir", dir, "--tenant-key-dir", keyDir}
	ndjson := filepath.Join(t.TempDir(), "p.ndjson")
	os.WriteFile(ndjson, []byte(`{"resourceType":"Patient","id":"p1","name":[{"family":"QQTENANTMARK"}]}`+"\n"), 0o600)
	for _, tenant := range []string{"gone", "kept"} {
		if out, err := hearthCmd(t, nil, append(append([]string{"import", "--tenant", tenant}, flags...), ndjson)...); err != nil {
			t.Fatalf("import into %s: %v\n%s", tenant, err, out)
		}
	}
	checkNoMarker(t, dir, "QQTENANTMARK")
	keyFile := filepath.Join(keyDir, "gone.key")
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("the tenant key is not in --tenant-key-dir: %v", err)
	}

	if out, err := hearthCmd(t, nil, append([]string{"tenant", "delete", "gone"}, flags...)...); err == nil || !strings.Contains(out, "--yes") {
		t.Fatalf("delete without --yes: %v\n%s", err, out)
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("a refused delete destroyed the key: %v", err)
	}
	out, err := hearthCmd(t, nil, append([]string{"tenant", "delete", "gone", "--yes"}, flags...)...)
	if err != nil || !strings.Contains(out, "keys destroyed") || !strings.Contains(out, keyFile) {
		t.Fatalf("tenant delete: %v\n%s", err, out)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file after delete: %v", err)
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hearth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Read(ctx, "gone", "Patient", "p1"); !fhir.IsKind(err, fhir.KindNotFound) {
		t.Errorf("deleted tenant's patient: %v", err)
	}
	if keys, _ := st.TenantKeys(ctx, "gone"); len(keys) != 0 {
		t.Errorf("deleted tenant has %d keys left", len(keys))
	}
	if _, err := st.Read(ctx, "kept", "Patient", "p1"); err != nil {
		t.Errorf("other tenant's patient: %v", err)
	}
	if keys, _ := st.TenantKeys(ctx, "kept"); len(keys) != 2 || keys[0].KEKID != crypt.TenantDirID {
		t.Errorf("other tenant's keys: %+v", keys)
	}
}

// A data directory from before tenant key directories, whose keys the
// master key wraps in the database, is moved under tenant keys by the
// first command that opens it.
func TestKeysMovedUnderTenantKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "hearth.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	mk, err := crypt.LoadMasterKey(crypt.MasterKeyConfig{Env: os.Getenv("HEARTH_MASTER_KEY")})
	if err != nil {
		t.Fatal(err)
	}
	master, _ := crypt.NewLocalWrapper(mk.Key)
	if err := crypt.NewRing(st, master).EnsureKeys(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// The default place: tenant-keys/ in the data directory.
	out, err := hearthCmd(t, []string{"HEARTH_TENANT_KEY_DIR="}, "keys", "status", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "2 keys re-wrapped under their tenant keys") {
		t.Fatalf("keys status: %v\n%s", err, out)
	}
	if st, err = sqlite.Open(ctx, filepath.Join(dir, "hearth.db")); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := st.TenantKeys(ctx, "old")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	for _, k := range keys {
		if k.KEKID != crypt.TenantDirID {
			t.Errorf("%s key still wrapped by %s", k.Purpose, k.KEKID)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "tenant-keys", "old.key")); err != nil {
		t.Errorf("no tenant key file: %v", err)
	}
}

// TestTenantCreate adds a tenant with `hearth tenant create`: a client can
// be registered in it only afterwards, a second create leaves it as it
// is, and an id that would need quoting is refused.
func TestTenantCreate(t *testing.T) {
	dir := t.TempDir()
	flags := []string{"--data-dir", dir}
	client := append([]string{"client", "create", "--name", "app", "--scope", "system/*.rs", "--tenant", "clinic-2"}, flags...)
	if out, err := hearthCmd(t, nil, client...); err == nil {
		t.Fatalf("client create in a tenant that does not exist succeeded:\n%s", out)
	}
	out, err := hearthCmd(t, nil, append([]string{"tenant", "create", "clinic-2", "--name", "Clinic Two"}, flags...)...)
	if err != nil || !strings.Contains(out, "tenant clinic-2 created") {
		t.Fatalf("tenant create: %v\n%s", err, out)
	}
	if out, err := hearthCmd(t, nil, client...); err != nil || !strings.Contains(out, `"tenant":"clinic-2"`) {
		t.Fatalf("client create in the new tenant: %v\n%s", err, out)
	}
	if out, err := hearthCmd(t, nil, append(append([]string{"tenant", "create"}, flags...), "clinic-2")...); err != nil || !strings.Contains(out, "tenant clinic-2 exists") {
		t.Fatalf("second tenant create: %v\n%s", err, out)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "hearth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if tn, err := st.GetTenant(context.Background(), "clinic-2"); err != nil || tn.Name != "Clinic Two" {
		t.Errorf("GetTenant = %+v, %v; want the name given", tn, err)
	}
	for _, bad := range []string{"../keys", "a b", "_x", ".x", strings.Repeat("a", 65), "é"} {
		if out, err := hearthCmd(t, nil, append([]string{"tenant", "create", bad}, flags...)...); err == nil {
			t.Errorf("tenant create %q succeeded:\n%s", bad, out)
		}
	}
}
