package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// defaultTenant is created on first start; single-practice installs live in it.
const defaultTenant = "default"

// storageFlags are the flags every command that opens the store shares.
type storageFlags struct {
	dataDir     string
	databaseURL string
}

func (f *storageFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "./hearth-data", "directory of the embedded SQLite store")
	fs.StringVar(&f.databaseURL, "database-url", os.Getenv("HEARTH_DATABASE_URL"),
		"PostgreSQL URL (postgres://...); overrides --data-dir (env HEARTH_DATABASE_URL)")
}

// open opens the configured store, applies migrations and makes sure the
// default tenant exists.
func (f *storageFlags) open(ctx context.Context) (store.Store, error) {
	var (
		st  store.Store
		err error
	)
	switch {
	case f.databaseURL != "":
		if !strings.HasPrefix(f.databaseURL, "postgres://") && !strings.HasPrefix(f.databaseURL, "postgresql://") {
			return nil, fmt.Errorf("--database-url must be a postgres:// URL")
		}
		st, err = postgres.Open(ctx, f.databaseURL)
	default:
		if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		st, err = sqlite.Open(ctx, filepath.Join(f.dataDir, "hearth.db"))
	}
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	err = st.EnsureTenant(ctx, store.Tenant{ID: defaultTenant, Name: "Default", CreatedAt: time.Now().UTC()})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("default tenant: %w", err)
	}
	return st, nil
}

// undurableWarning is the start-up log line of warnUndurable.
const undurableWarning = "DATABASE COMMITS ARE NOT DURABLE: acknowledged writes and AuditEvents can be lost in a crash"

// warnUndurable logs the store's settings under which a commit it
// acknowledged can be lost in a crash (PostgreSQL's synchronous_commit,
// fsync, full_page_writes). Hearth answers only after a request's
// AuditEvent commits, so those settings void the promise that no access
// goes unrecorded; they are the operator's choice (test databases often
// run without fsync), so the server says so loudly and starts.
func warnUndurable(ctx context.Context, st store.Store, log *slog.Logger) {
	d, ok := st.(interface {
		UndurableSettings(context.Context) ([]string, error)
	})
	if !ok {
		return // SQLite: the store sets synchronous=FULL itself
	}
	settings, err := d.UndurableSettings(ctx)
	switch {
	case err != nil:
		log.Warn("could not read the database's durability settings", "err", err)
	case len(settings) > 0:
		log.Warn(undurableWarning, "settings", settings)
	}
}

// kind names the configured backend for the start-up log (never the URL,
// which may carry a password).
func (f *storageFlags) kind() string {
	if f.databaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}
