package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/migrations"
)

// migrateLock is the advisory lock class that serializes migrations; the
// lock's second key is the schema, so separate schemas migrate in parallel.
const migrateLock = 0x48525448 // "HRTH"

// Migrate applies the migrations that have not run yet in one transaction.
// It first takes a transaction-scoped advisory lock, so servers starting
// together take turns and the later ones find nothing to do.
func (db *DB) Migrate(ctx context.Context) error {
	const op = "postgres.Migrate"
	all, err := migrations.List(migrations.Postgres)
	if err != nil {
		return wrap(op, err, "")
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return wrap(op, err, "")
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))`,
		int32(migrateLock)); err != nil {
		return wrap(op, err, "")
	}
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return wrap(op, err, "")
	}
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		// No arguments: pgx uses the simple protocol, which runs a file
		// of several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return wrap(op+" "+m.Name, err, "")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
			return wrap(op, err, "")
		}
	}
	return wrap(op, tx.Commit(ctx), "")
}

// appliedVersions reads the bookkeeping table, which the first migration
// creates: before it there is nothing applied. to_regclass follows
// search_path, like every other statement here.
func appliedVersions(ctx context.Context, tx pgx.Tx) (map[int]bool, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return map[int]bool{}, err
	}
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	applied := map[int]bool{}
	for _, v := range versions {
		applied[int(v)] = true
	}
	return applied, err
}

// rollback ends tx if it is still open, even when ctx is already cancelled,
// so the connection goes back to the pool clean. pgx closes the connection
// if the rollback itself fails.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // ErrTxClosed after a commit
}
