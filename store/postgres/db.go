// Package postgres is the production store.Store on PostgreSQL through pgx.
//
// Every write is one statement: data-modifying CTEs put the current version,
// its history row and its token rows in a single round trip, and the first
// CTE decides for all of them, so a lost optimistic race writes nothing and
// leaves the transaction usable.
package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ store.Store = (*DB)(nil)

// DB is a pool of connections to one database (and one search_path).
type DB struct {
	pool *pgxpool.Pool
	stop context.CancelFunc // ends keepStatistics
}

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 16

// Option adjusts the pool configuration.
type Option func(*pgxpool.Config)

// WithMaxConns caps the pool's connections.
func WithMaxConns(n int32) Option {
	return func(c *pgxpool.Config) { c.MaxConns = n }
}

// Open connects to the database at url (a postgres:// URL or key=value DSN)
// and checks that it answers. Runtime parameters in the URL, search_path in
// particular, apply to every connection, which is how tests and multi-schema
// deployments pick their schema: no query names a schema. Open does not
// migrate; call Migrate.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	const op = "postgres.Open"
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, sqlbase.Wrap(op, err)
	}
	// Connection settings are built here. Searches over the index tables
	// will need custom plans (plan_cache_mode=force_custom_plan in
	// cfg.ConnConfig.RuntimeParams, or QueryExecModeExec per query): on
	// skewed data a generic plan for a cached statement is ~300x slower.
	// Keyed reads and writes keep pgx's statement cache, which saves a
	// round trip per call.
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (4 on this size of machine) caps concurrent
		// requests: a write holds its connection for BEGIN, the write and
		// COMMIT, so creates stopped scaling at 4 clients. Commits wait on
		// the disk, not the CPU, so more connections than cores pay off.
		cfg.MaxConns = defaultMaxConns
	}
	for _, opt := range opts {
		opt(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, sqlbase.Wrap(op, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, sqlbase.Unavailable(op, err)
	}
	bg, stop := context.WithCancel(context.Background())
	db := &DB{pool: pool, stop: stop}
	go db.keepStatistics(bg)
	return db, nil
}

// Close closes the pool, waiting for connections in use to be released.
func (db *DB) Close() error {
	db.stop()
	db.pool.Close()
	return nil
}

// querier is what the pool and a transaction share, so that helpers run the
// same statements inside and outside a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
