package crypt

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// PurposeTenant names a tenant key: the key that wraps a tenant's DEKs and
// blind-index key. It never enters the database.
const PurposeTenant Purpose = "tenant"

// TenantDirID is the Wrapper.ID of keys wrapped by their tenant's key from
// a TenantDir. It does not name the master key: a master key change
// re-seals the tenant key files (TenantDir.Reseal) and leaves the database
// alone.
const TenantDirID = "tenant-dir"

// TenantDir is a Wrapper that wraps each tenant's keys with a key of the
// tenant's own, kept in a file of a directory outside the database, sealed
// by the master key. The database then holds nothing that opens a tenant's
// data, not even together with the master key: destroying the tenant's file
// (DestroyTenant, called by Ring.Shred) makes every copy of the tenant's
// data unreadable, database backups taken earlier included.
//
// The directory must be backed up, since losing a file loses the tenant's
// data, but apart from database backups and with a retention that honours
// tenant deletions. Several servers over one database must share it.
type TenantDir struct {
	dir    string
	master Wrapper
	seal   map[string]Wrapper // by ID: the master key and earlier ones, to open files
}

var (
	_ Wrapper         = (*TenantDir)(nil)
	_ TenantDestroyer = (*TenantDir)(nil)
)

// tenantFile is a tenant key file's content.
type tenantFile struct {
	Tenant  string    `json:"tenant"`
	KEKID   string    `json:"kek"` // the master key that sealed Key
	Key     []byte    `json:"key"` // the tenant key, sealed
	Created time.Time `json:"created"`
}

// NewTenantDir keeps tenant keys in dir (created 0700 if missing), sealed
// by master; previous masters still open files until Reseal has run.
func NewTenantDir(dir string, master Wrapper, previous ...Wrapper) (*TenantDir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("crypt: tenant key directory: %w", err)
	}
	d := &TenantDir{dir: dir, master: master, seal: map[string]Wrapper{master.ID(): master}}
	for _, w := range previous {
		if _, ok := d.seal[w.ID()]; !ok {
			d.seal[w.ID()] = w
		}
	}
	return d, nil
}

// ID is TenantDirID.
func (d *TenantDir) ID() string { return TenantDirID }

// Dir is the directory the tenant keys are in.
func (d *TenantDir) Dir() string { return d.dir }

// Path is the file of tenant's key, for operators who must remove it from
// key backups once the tenant is deleted.
func (d *TenantDir) Path(tenant string) string {
	return filepath.Join(d.dir, tenantFileName(tenant))
}

// plainTenant are tenant ids used as file names as they are; others are
// hex-encoded behind a "_", which no plain name starts with. Upper case is
// encoded too, so that case-insensitive file systems keep tenants apart.
var plainTenant = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

func tenantFileName(tenant string) string {
	if plainTenant.MatchString(tenant) {
		return tenant + ".key"
	}
	return "_" + hex.EncodeToString([]byte(tenant)) + ".key"
}

// Wrap seals key with the tenant's key, made on the tenant's first key.
func (d *TenantDir) Wrap(ctx context.Context, kc KeyContext, key []byte) ([]byte, error) {
	aead, err := d.aead(ctx, kc.Tenant, true)
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nil, key, kc.aad()), nil
}

// Unwrap opens a key sealed by Wrap. A tenant whose key is gone is ErrNoKey.
func (d *TenantDir) Unwrap(ctx context.Context, kc KeyContext, wrapped []byte) ([]byte, error) {
	aead, err := d.aead(ctx, kc.Tenant, false)
	if err != nil {
		return nil, err
	}
	key, err := aead.Open(nil, nil, wrapped, kc.aad())
	if err != nil {
		return nil, fmt.Errorf("%w: a %s key does not unwrap under its tenant's key (another tenant's, or a tenant key made anew)", ErrDecrypt, kc.Purpose)
	}
	return key, nil
}

// aead is AES-GCM under the tenant's key (see tenantKey).
func (d *TenantDir) aead(ctx context.Context, tenant string, create bool) (cipher.AEAD, error) {
	tk, err := d.tenantKey(ctx, tenant, create)
	if err != nil {
		return nil, err
	}
	return newAEAD(tk)
}

// tenantKey reads the tenant's key, creating it when create is set and
// there is none. Keys are read from the file every time: unwrapping is rare
// (the Ring caches what it unwrapped), and a file destroyed by another
// process must not live on in this one.
func (d *TenantDir) tenantKey(ctx context.Context, tenant string, create bool) ([]byte, error) {
	if tenant == "" {
		return nil, errNoTenant
	}
	key, err := d.read(ctx, tenant)
	if !errors.Is(err, fs.ErrNotExist) || !create {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: the key of tenant %q is not in %s (destroyed with the tenant, or the directory is not this server's)", ErrNoKey, tenant, d.dir)
		}
		return key, err
	}
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	sealed, err := d.master.Wrap(ctx, tenantKeyContext(tenant), raw)
	if err != nil {
		return nil, fmt.Errorf("crypt: seal tenant key: %w", err)
	}
	b, err := json.Marshal(tenantFile{Tenant: tenant, KEKID: d.master.ID(), Key: sealed, Created: time.Now().UTC()})
	if err != nil {
		return nil, err
	}
	// A server sharing the directory may have made it first: its key wins.
	if err := createFile(d.Path(tenant), b); errors.Is(err, fs.ErrExist) {
		return d.read(ctx, tenant)
	} else if err != nil {
		return nil, fmt.Errorf("crypt: tenant key: %w", err)
	}
	return raw, nil
}

func tenantKeyContext(tenant string) KeyContext {
	return KeyContext{Tenant: tenant, Purpose: PurposeTenant, Version: 1}
}

// read opens the tenant's key file.
func (d *TenantDir) read(ctx context.Context, tenant string) ([]byte, error) {
	f, err := d.readFile(d.Path(tenant))
	if err != nil {
		return nil, err
	}
	if f.Tenant != tenant {
		return nil, fmt.Errorf("crypt: tenant key file %s belongs to another tenant", d.Path(tenant))
	}
	w := d.seal[f.KEKID]
	if w == nil {
		return nil, fmt.Errorf("%w: the key of tenant %q is sealed by master key %s, which this server does not have", ErrNoKey, tenant, f.KEKID)
	}
	key, err := w.Unwrap(ctx, tenantKeyContext(tenant), f.Key)
	if err != nil {
		return nil, fmt.Errorf("crypt: tenant key of %q: %w", tenant, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("crypt: tenant key of %q has %d bytes", tenant, len(key))
	}
	return key, nil
}

func (d *TenantDir) readFile(path string) (tenantFile, error) {
	var f tenantFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("crypt: tenant key file %s: %w", path, err)
	}
	return f, nil
}

// Info describes the tenant's key file: when it was made and which master
// key sealed it; fs.ErrNotExist when there is none.
func (d *TenantDir) Info(tenant string) (KeyInfo, error) {
	f, err := d.readFile(d.Path(tenant))
	if err != nil {
		return KeyInfo{}, err
	}
	return KeyInfo{Purpose: PurposeTenant, Version: 1, KEKID: f.KEKID, CreatedAt: f.Created}, nil
}

// DestroyTenant destroys the tenant's key: its file is overwritten with
// zeros, synced and removed. Destroying a key that does not exist succeeds.
// On copy-on-write or journalling file systems and on flash, the old
// blocks may survive the overwrite; they are sealed by the master key, so
// the master key is needed as well to use them.
func (d *TenantDir) DestroyTenant(_ context.Context, tenant string) error {
	path := d.Path(tenant)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("crypt: destroy tenant key: %w", err)
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = f.Write(make([]byte, fi.Size()))
	}
	if err == nil {
		err = f.Sync()
	}
	if err := errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("crypt: destroy tenant key: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("crypt: destroy tenant key: %w", err)
	}
	return syncDir(d.dir)
}

// Tenants lists the tenants that have a key in the directory.
func (d *TenantDir) Tenants() ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return nil, fmt.Errorf("crypt: tenant key directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".key") {
			continue
		}
		f, err := d.readFile(filepath.Join(d.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, f.Tenant)
	}
	sort.Strings(out)
	return out, nil
}

// Reseal seals every tenant key file that an earlier master key sealed
// with the current one, after a master key change; the tenant keys, and so
// the database, stay as they are. It returns how many files it re-sealed.
func (d *TenantDir) Reseal(ctx context.Context) (int, error) {
	tenants, err := d.Tenants()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, tenant := range tenants {
		f, err := d.readFile(d.Path(tenant))
		if err != nil {
			return n, err
		}
		if f.KEKID == d.master.ID() {
			continue
		}
		key, err := d.read(ctx, tenant)
		if err != nil {
			return n, err
		}
		if f.Key, err = d.master.Wrap(ctx, tenantKeyContext(tenant), key); err != nil {
			return n, fmt.Errorf("crypt: reseal tenant key: %w", err)
		}
		f.KEKID = d.master.ID()
		b, err := json.Marshal(f)
		if err != nil {
			return n, err
		}
		if err := replaceFile(d.Path(tenant), b); err != nil {
			return n, fmt.Errorf("crypt: reseal tenant key: %w", err)
		}
		n++
	}
	return n, nil
}
