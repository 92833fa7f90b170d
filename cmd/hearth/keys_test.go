package main

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
)

// hearthCmd runs the binary with env as the environment's changes: a
// "KEY=" entry removes KEY.
func hearthCmd(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !slicesHasKey(env, k) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for _, kv := range env {
		if !strings.HasSuffix(kv, "=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func slicesHasKey(env []string, k string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			return true
		}
	}
	return false
}

// TestKeysCommands runs the key life cycle through the binary on an
// SQLite data directory with a generated master key: import encrypts,
// status counts, rotate re-encrypts everything, rewrap moves to a new
// master key (the old one then no longer opens the keys), shred destroys
// the tenant's keys.
func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	noKey := []string{"HEARTH_MASTER_KEY=", "HEARTH_TENANT_KEY_DIR="}
	data := []string{"--data-dir", dir}
	ndjson := filepath.Join(t.TempDir(), "patients.ndjson")
	os.WriteFile(ndjson, []byte(`{"resourceType":"Patient","id":"p1","name":[{"family":"QQKEYSMARK"}],"birthDate":"1911-11-11"}
{"resourceType":"Patient","id":"p2","telecom":[{"system":"phone","value":"QQKEYSMARK-2"}]}
{"resourceType":"Practitioner","id":"pr1","name":[{"family":"Visible"}]}
`), 0o600)

	out, err := hearthCmd(t, noKey, append(append([]string{"import"}, data...), ndjson)...)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, "MASTER KEY IS STORED IN THE DATA DIRECTORY") {
		t.Errorf("no loud warning about the generated key:\n%s", out)
	}
	generated := filepath.Join(dir, crypt.GeneratedKeyFile)
	if _, err := os.Stat(generated); err != nil {
		t.Fatal(err)
	}
	checkNoMarker(t, dir, "QQKEYSMARK", "1911-11-11")

	status := func(env []string, extra ...string) string {
		t.Helper()
		out, err := hearthCmd(t, env, append(append([]string{"keys", "status"}, data...), extra...)...)
		if err != nil {
			t.Fatalf("keys status: %v\n%s", err, out)
		}
		return out
	}
	// default tenant: data v1 (current), index v1; two patients, each with
	// a history and a current body, hold 3 encrypted elements between them.
	if s := status(noKey); !regexp.MustCompile(`default\s+data \(current\)\s+1\s.*\s6\s+4\n`).MatchString(s) {
		t.Errorf("status before rotation:\n%s", s)
	}
	out, err = hearthCmd(t, noKey, append([]string{"keys", "rotate"}, data...)...)
	if err != nil || !strings.Contains(out, "re-encrypted to version 2") || !strings.Contains(out, "rows (pass 1)") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	s := status(noKey)
	if !regexp.MustCompile(`default\s+data\s+1\s.*\s0\s+0\n`).MatchString(s) ||
		!regexp.MustCompile(`default\s+data \(current\)\s+2\s.*\s6\s+4\n`).MatchString(s) {
		t.Errorf("status after rotation:\n%s", s)
	}
	checkNoMarker(t, dir, "QQKEYSMARK", "1911-11-11")

	// A new master key: rewrap with both, then only the new one works.
	newKey := filepath.Join(t.TempDir(), "new.key")
	os.WriteFile(newKey, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))), 0o600)
	// The tenant keys stay where they are, in the data directory beside the
	// generated key; the new key file elsewhere would look beside itself.
	out, err = hearthCmd(t, noKey, append([]string{"keys", "rewrap", "--master-key-file", newKey, "--previous-master-key-file", generated}, data...)...)
	if err == nil || !strings.Contains(out, "--tenant-key-dir") {
		t.Fatalf("keys rewrap looking for tenant keys in the wrong place: %v\n%s", err, out)
	}
	data = append(data, "--tenant-key-dir", filepath.Join(dir, "tenant-keys"))
	out, err = hearthCmd(t, noKey, append([]string{"keys", "rewrap", "--master-key-file", newKey, "--previous-master-key-file", generated}, data...)...)
	if err != nil || !strings.Contains(out, "1 tenant key files") || !strings.Contains(out, "re-sealed") {
		t.Fatalf("keys rewrap: %v\n%s", err, out)
	}
	if out, err := hearthCmd(t, noKey, append(append([]string{"import"}, data...), ndjson)...); err == nil {
		t.Errorf("import with the retired generated key succeeded:\n%s", out)
	} else if !strings.Contains(out, "master key") {
		t.Errorf("import with the retired key: no hint at the master key:\n%s", out)
	}
	if out, err := hearthCmd(t, noKey, append(append([]string{"import", "--master-key-file", newKey}, data...), ndjson)...); err != nil {
		t.Errorf("import with the new key: %v\n%s", err, out)
	}

	out, err = hearthCmd(t, noKey, append([]string{"keys", "shred", "--tenant", "default", "--master-key-file", newKey}, data...)...)
	if err == nil {
		t.Errorf("shred without --confirm succeeded:\n%s", out)
	}
	out, err = hearthCmd(t, noKey, append([]string{"keys", "shred", "--tenant", "default", "--confirm", "default", "--master-key-file", newKey}, data...)...)
	if err != nil || !strings.Contains(out, "keys destroyed") {
		t.Fatalf("keys shred: %v\n%s", err, out)
	}
	if s := status(noKey, "--tenant", "default", "--master-key-file", newKey); !strings.Contains(s, "NO KEY") {
		t.Errorf("status after shredding:\n%s", s)
	}
}

// The element set comes from flags and files; a bad one stops the command.
func TestEncryptElementsFlags(t *testing.T) {
	dir := t.TempDir()
	ndjson := filepath.Join(t.TempDir(), "p.ndjson")
	os.WriteFile(ndjson, []byte(`{"resourceType":"Practitioner","id":"pr1","name":[{"family":"QQFLAGMARK"}]}`+"\n"), 0o600)
	list := filepath.Join(t.TempDir(), "elements.txt")
	os.WriteFile(list, []byte("# ours\nPatient.name\n"), 0o600)
	out, err := hearthCmd(t, nil, "import", "--data-dir", dir, "--encrypt-elements", "Practitioner.name", "--encrypt-elements-file", list, ndjson)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	checkNoMarker(t, dir, "QQFLAGMARK")
	for _, bad := range []string{"Practitioner", "Nonsense.name", "Patient.na-me"} {
		if out, err := hearthCmd(t, nil, "import", "--data-dir", dir, "--encrypt-elements", bad, ndjson); err == nil {
			t.Errorf("--encrypt-elements %s accepted:\n%s", bad, out)
		}
	}
}

// checkNoMarker fails if any file of the data directory but the master key
// holds a marker.
func checkNoMarker(t *testing.T, dir string, markers ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() == crypt.GeneratedKeyFile || e.IsDir() {
			continue // the keys, and tenant-keys/, hold keys only
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markers {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%s holds %q", e.Name(), m)
			}
		}
	}
}
