package crypt_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/crypt"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, crypt.KeySize) }

func TestLoadMasterKey(t *testing.T) {
	key := testKey(7)
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		cfg  crypt.MasterKeyConfig
		warn bool
	}{
		{"file base64", crypt.MasterKeyConfig{File: write("b64", base64.StdEncoding.EncodeToString(key)+"\n", 0o600)}, false},
		{"file base64url raw", crypt.MasterKeyConfig{File: write("b64u", base64.RawURLEncoding.EncodeToString(key), 0o600)}, false},
		{"file hex", crypt.MasterKeyConfig{File: write("hex", "  "+hex.EncodeToString(key)+"\r\n", 0o600)}, false},
		{"file raw bytes", crypt.MasterKeyConfig{File: write("raw", string(key), 0o600)}, false},
		{"file readable by others", crypt.MasterKeyConfig{File: write("loose", hex.EncodeToString(key), 0o644)}, true},
		{"env base64", crypt.MasterKeyConfig{Env: base64.StdEncoding.EncodeToString(key), DataDir: dir}, false},
		{"env hex", crypt.MasterKeyConfig{Env: hex.EncodeToString(key)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk, err := crypt.LoadMasterKey(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(mk.Key, key) || mk.Generated {
				t.Errorf("key %x generated=%v, want %x from config", mk.Key, mk.Generated, key)
			}
			if (len(mk.Warnings) > 0) != tc.warn {
				t.Errorf("warnings %q, want some: %v", mk.Warnings, tc.warn)
			}
		})
	}
}

func TestLoadMasterKeyRefuses(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte(base64.StdEncoding.EncodeToString(testKey(1)[:16])), 0o600)
	for name, cfg := range map[string]crypt.MasterKeyConfig{
		"file and env":    {File: short, Env: hex.EncodeToString(testKey(1))},
		"short key":       {File: short},
		"missing file":    {File: filepath.Join(dir, "nope")},
		"env not a key":   {Env: "correct horse battery staple"},
		"env 31 bytes":    {Env: hex.EncodeToString(testKey(1)[:31])},
		"nothing at all":  {},
		"data dir a file": {DataDir: short},
	} {
		t.Run(name, func(t *testing.T) {
			mk, err := crypt.LoadMasterKey(cfg)
			if err == nil {
				t.Fatalf("loaded %+v", mk)
			}
			if strings.Contains(err.Error(), hex.EncodeToString(testKey(1))) {
				t.Errorf("error reveals the key: %v", err)
			}
		})
	}
}

// With no key configured one is generated into the data directory, once,
// and flagged so that the server warns.
func TestLoadMasterKeyGenerates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var wg sync.WaitGroup
	keys := make([]crypt.MasterKey, 8)
	errs := make([]error, len(keys))
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = crypt.LoadMasterKey(crypt.MasterKeyConfig{DataDir: dir})
		}()
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil {
			t.Fatalf("load %d: %v", i, errs[i])
		}
		if !keys[i].Generated || !bytes.Equal(keys[i].Key, keys[0].Key) || len(keys[i].Key) != crypt.KeySize {
			t.Fatalf("load %d: %+v, want the one generated key", i, keys[i])
		}
	}
	path := filepath.Join(dir, crypt.GeneratedKeyFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("generated key file mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := crypt.LoadMasterKey(crypt.MasterKeyConfig{DataDir: dir})
	if err != nil || !bytes.Equal(again.Key, keys[0].Key) || !again.Generated || !strings.Contains(again.Source, path) {
		t.Errorf("second start: %+v, %v; want the same generated key", again, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d files, want only the key", len(entries))
	}
	// The generated file is an ordinary key file: it works as --master-key-file.
	fromFile, err := crypt.LoadMasterKey(crypt.MasterKeyConfig{File: path})
	if err != nil || !bytes.Equal(fromFile.Key, keys[0].Key) || fromFile.Generated {
		t.Errorf("as a key file: %+v, %v", fromFile, err)
	}
}
