package crypt

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the size of every key in the hierarchy: AES-256 and
// HMAC-SHA256 keys alike.
const KeySize = 32

// GeneratedKeyFile is the name of the master key generated into the data
// directory when no key is configured.
const GeneratedKeyFile = "master.key"

// MasterKeyConfig says where the master key (KEK) comes from. File and Env
// are mutually exclusive; with neither, a key is generated into DataDir.
type MasterKeyConfig struct {
	File    string // --master-key-file
	Env     string // the value of HEARTH_MASTER_KEY, passed in by the caller
	DataDir string // where a key is generated when File and Env are empty
}

// MasterKey is a loaded KEK and where it came from.
type MasterKey struct {
	Key    []byte
	Source string // "file /path", "environment", or "generated /path"
	// Generated is true when the key lives in the data directory: a copy of
	// the data directory then carries the key that unlocks it. The server
	// must warn loudly.
	Generated bool
	// Warnings are problems that do not stop the server, for its log.
	Warnings []string
}

// LoadMasterKey reads the KEK from cfg.File or cfg.Env, or reads (generating
// it on first start) DataDir/master.key. A key is 32 bytes, given as base64
// (standard or URL alphabet, padded or not), as hex, or, in a file, as raw
// bytes.
func LoadMasterKey(cfg MasterKeyConfig) (MasterKey, error) {
	switch {
	case cfg.File != "" && cfg.Env != "":
		return MasterKey{}, errors.New("crypt: both a master key file and HEARTH_MASTER_KEY are set; use one")
	case cfg.File != "":
		return loadKeyFile(cfg.File, "file "+cfg.File)
	case cfg.Env != "":
		key, err := parseKey([]byte(cfg.Env), false)
		if err != nil {
			return MasterKey{}, fmt.Errorf("crypt: HEARTH_MASTER_KEY: %w", err)
		}
		return MasterKey{Key: key, Source: "environment"}, nil
	case cfg.DataDir == "":
		return MasterKey{}, errors.New("crypt: no master key configured and no data directory to generate one into")
	}
	path := filepath.Join(cfg.DataDir, GeneratedKeyFile)
	mk, err := loadKeyFile(path, "generated "+path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := generateKeyFile(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return MasterKey{}, err
		}
		// Another server may have generated it first (ErrExist): read
		// whichever key won.
		mk, err = loadKeyFile(path, "generated "+path)
	}
	mk.Generated = err == nil
	return mk, err
}

// loadKeyFile reads a key file and notes loose permissions.
func loadKeyFile(path, source string) (MasterKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return MasterKey{}, fmt.Errorf("crypt: master key: %w", err)
	}
	key, err := parseKey(data, true)
	if err != nil {
		return MasterKey{}, fmt.Errorf("crypt: master key %s: %w", path, err)
	}
	mk := MasterKey{Key: key, Source: source}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		mk.Warnings = append(mk.Warnings, fmt.Sprintf("master key file %s is readable by group or others (mode %v)", path, fi.Mode().Perm()))
	}
	return mk, nil
}

// generateKeyFile writes a new random key. It never overwrites a key file,
// so two servers starting at once agree on one key.
func generateKeyFile(path string) error {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("crypt: generate master key: %w", err)
	}
	if err := createFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n")); err != nil {
		return fmt.Errorf("crypt: generate master key: %w", err)
	}
	return nil
}

// parseKey accepts base64 or hex text of 32 bytes, or (raw allowed) exactly
// 32 raw bytes.
func parseKey(data []byte, raw bool) ([]byte, error) {
	if raw && len(data) == KeySize {
		return bytes.Clone(data), nil
	}
	text := string(bytes.TrimSpace(data))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(text); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	if key, err := hex.DecodeString(text); err == nil && len(key) == KeySize {
		return key, nil
	}
	return nil, fmt.Errorf("not a %d-byte key in base64 or hex", KeySize)
}
