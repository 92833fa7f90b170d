package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// encryptionFlags configure field encryption; every command that writes or
// reads resources shares them, so that nothing reaches the store
// unencrypted by another road.
type encryptionFlags struct {
	enabled       bool
	masterKeyFile string
	previousFile  string
	tenantKeyDir  string
	elementsFile  string
	elements      string
}

func (f *encryptionFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.enabled, "encrypt", true, "encrypt the configured elements of every resource (off: store them as sent)")
	fs.StringVar(&f.masterKeyFile, "master-key-file", "",
		"file holding the 32-byte master key (base64 or hex); else HEARTH_MASTER_KEY; else one generated into --data-dir")
	fs.StringVar(&f.previousFile, "previous-master-key-file", "",
		"the master key being retired: keys still wrapped by it stay readable until `hearth keys rewrap` has run")
	fs.StringVar(&f.tenantKeyDir, "tenant-key-dir", os.Getenv("HEARTH_TENANT_KEY_DIR"),
		"directory of the per-tenant keys that wrap each tenant's data keys, kept out of the database so that deleting a tenant "+
			"makes its database backups unreadable; back it up apart from the database (default: tenant-keys beside "+
			"--master-key-file, else in --data-dir; env HEARTH_TENANT_KEY_DIR); servers sharing a database must share it")
	fs.StringVar(&f.elementsFile, "encrypt-elements-file", "",
		"file listing the encrypted elements (Type.element, one per line); default: the built-in PHI set")
	fs.StringVar(&f.elements, "encrypt-elements", "",
		"comma-separated encrypted elements (Patient.name,Observation.value[x]); with the file, both count; default: the built-in PHI set")
}

// keyring is field encryption as configured: the master key, the tenant
// key directory it seals, the ring over the store's keys and the element
// set.
type keyring struct {
	master   crypt.MasterKey
	wrapper  crypt.Wrapper // the master key
	previous crypt.Wrapper // nil without --previous-master-key-file
	tenants  *crypt.TenantDir
	ks       crypt.KeyStore
	ring     *crypt.Ring
	elements *crypt.Elements
	// inDataDir: the tenant keys sit in the SQLite data directory, so a
	// copy of it carries them.
	inDataDir bool
}

// openEncrypted opens the store and field encryption over it (nil when
// off). The caller closes the store.
func openEncrypted(ctx context.Context, sf storageFlags, ef encryptionFlags) (store.Store, *keyring, error) {
	st, err := sf.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	kr, err := ef.open(st, sf)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, kr, nil
}

// open loads the master key and builds the ring over st. It returns nil
// when encryption is off.
func (f *encryptionFlags) open(st store.Store, sf storageFlags) (*keyring, error) {
	if !f.enabled {
		return nil, nil
	}
	ks, ok := st.(crypt.KeyStore)
	if !ok {
		return nil, fmt.Errorf("this store cannot hold encryption keys")
	}
	mk, err := crypt.LoadMasterKey(crypt.MasterKeyConfig{File: f.masterKeyFile, Env: os.Getenv("HEARTH_MASTER_KEY"), DataDir: sf.dataDir})
	if err != nil {
		return nil, err
	}
	w, err := crypt.NewLocalWrapper(mk.Key)
	if err != nil {
		return nil, err
	}
	kr := &keyring{master: mk, wrapper: w, ks: ks, elements: crypt.DefaultElements()}
	// Keys from before tenant key directories, wrapped by the master key
	// in the database, stay readable until check moves them.
	masters := []crypt.Wrapper{w}
	if f.previousFile != "" {
		prev, err := crypt.LoadMasterKey(crypt.MasterKeyConfig{File: f.previousFile})
		if err != nil {
			return nil, fmt.Errorf("--previous-master-key-file: %w", err)
		}
		if kr.previous, err = crypt.NewLocalWrapper(prev.Key); err != nil {
			return nil, err
		}
		masters = append(masters, kr.previous)
	}
	dir := f.tenantKeyDir
	switch {
	case dir != "":
	case f.masterKeyFile != "":
		dir = filepath.Join(filepath.Dir(f.masterKeyFile), "tenant-keys")
	default:
		dir = filepath.Join(sf.dataDir, "tenant-keys")
	}
	if kr.tenants, err = crypt.NewTenantDir(dir, w, masters[1:]...); err != nil {
		return nil, err
	}
	kr.inDataDir = sf.databaseURL == "" && within(dir, sf.dataDir)
	kr.ring = crypt.NewRing(ks, kr.tenants, crypt.WithPreviousKEKs(masters...))
	if f.elementsFile != "" || f.elements != "" {
		text := strings.ReplaceAll(f.elements, ",", "\n")
		if f.elementsFile != "" {
			b, err := os.ReadFile(f.elementsFile)
			if err != nil {
				return nil, fmt.Errorf("--encrypt-elements-file: %w", err)
			}
			text += "\n" + string(b)
		}
		if kr.elements, err = crypt.ReadElements(strings.NewReader(text)); err != nil {
			return nil, fmt.Errorf("encrypted elements: %w", err)
		}
		for _, typ := range kr.elements.Types() {
			if !fhir.IsResourceType(typ) {
				return nil, fmt.Errorf("encrypted elements: %q is not an R4 resource type", typ)
			}
		}
	}
	return kr, nil
}

// warn logs where the master key came from, loudly when it sits in the data
// directory, beside the data it protects.
func (kr *keyring) warn(log *slog.Logger) {
	if kr == nil {
		log.Warn("field encryption is OFF: protected health information is stored in the clear (--encrypt=false)")
		return
	}
	if kr.master.Generated {
		log.Warn("!!! MASTER KEY IS STORED IN THE DATA DIRECTORY !!! Anyone with a copy of the data directory can decrypt "+
			"every resource. Move the key elsewhere and pass --master-key-file or HEARTH_MASTER_KEY.",
			"source", kr.master.Source)
	} else {
		log.Info("field encryption on", "master_key", kr.master.Source, "kek", kr.wrapper.ID(), "tenant_keys", kr.tenants.Dir())
		if kr.inDataDir {
			log.Warn("tenant keys are stored in the data directory: a copy of it carries them, so deleting a tenant does not "+
				"make such copies unreadable. Pass --tenant-key-dir outside it and back that up apart from the data.",
				"tenant_keys", kr.tenants.Dir())
		}
	}
	for _, w := range kr.master.Warnings {
		log.Warn(w)
	}
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// engineEncryption is the engine's view; failures are logged without PHI.
func (kr *keyring) engineEncryption(log *slog.Logger) *engine.Encryption {
	if kr == nil {
		return nil
	}
	return &engine.Encryption{
		Ring: kr.ring, Elements: kr.elements,
		OnDecryptFailure: func(ctx context.Context, tenant, typ, id string, version int64, err error) {
			log.ErrorContext(ctx, "stored resource failed to decrypt", "tenant", tenant, "type", typ, "id", id,
				"version", version, "error", err)
		},
	}
}

// check moves keys the master key wraps in the database (as every key was
// before tenant key directories) under their tenants' keys, then unwraps
// the default tenant's keys (creating them on first start), so that a
// wrong master key stops the server at start rather than failing every
// request. Moving is idempotent and cheap once done.
func (kr *keyring) check(ctx context.Context) error {
	if kr == nil {
		return nil
	}
	if _, err := kr.migrate(ctx); err != nil {
		return err
	}
	if err := kr.ring.EnsureKeys(ctx, defaultTenant); err != nil {
		return fmt.Errorf("encryption keys of tenant %q: %w (is this the master key they were made with?)", defaultTenant, err)
	}
	return nil
}

// engine checks the keys (check) and builds the engine of a command that
// reads or writes resources outside a server (import, tenant delete).
func (kr *keyring) engine(ctx context.Context, st store.Store, log *slog.Logger) (*engine.Engine, error) {
	if err := kr.check(ctx); err != nil {
		return nil, err
	}
	cfg := app.DefaultConfig("")
	cfg.Encryption = kr.engineEncryption(log)
	return app.Engine(cfg, st)
}

// migrate moves keys still wrapped by the master key (or the previous one)
// in the database under their tenants' keys, and scrubs the old wrappings
// from the database files.
func (kr *keyring) migrate(ctx context.Context) (crypt.RewrapReport, error) {
	from := []crypt.Wrapper{kr.wrapper}
	if kr.previous != nil {
		from = append(from, kr.previous)
	}
	rep, err := crypt.RewrapKeys(ctx, kr.ks, kr.tenants, from...)
	if err != nil {
		return rep, fmt.Errorf("moving tenant keys under the keys in %s: %w", kr.tenants.Dir(), err)
	}
	if rep.Current > 0 {
		// The database has keys wrapped by tenant keys: an empty directory
		// is the wrong one (the master key file moved, say), not a loss.
		if tenants, err := kr.tenants.Tenants(); err != nil || len(tenants) == 0 {
			return rep, fmt.Errorf("the tenant key directory %s holds no tenant keys, but the database has keys wrapped by them: "+
				"pass --tenant-key-dir (by default it is beside --master-key-file) %v", kr.tenants.Dir(), err)
		}
	}
	return rep, nil
}
