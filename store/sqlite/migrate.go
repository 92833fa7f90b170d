package sqlite

import (
	"context"
	"database/sql"

	"github.com/hearth-fhir/hearth/migrations"
)

// Migrate applies the migrations that have not run yet, all in one
// transaction. BEGIN IMMEDIATE takes the write lock first, so two processes
// migrating the same file run one after the other and the second finds
// nothing to do.
func (db *DB) Migrate(ctx context.Context) error {
	const op = "sqlite.Migrate"
	all, err := migrations.List(migrations.SQLite)
	if err != nil {
		return wrap(op, err, "")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err, "")
	}
	defer tx.Rollback()
	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return wrap(op, err, "")
	}
	for _, m := range all {
		if applied[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return wrap(op+" "+m.Name, err, "")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, m.Version); err != nil {
			return wrap(op, err, "")
		}
	}
	return wrap(op, tx.Commit(), "")
}

// appliedVersions reads the bookkeeping table, which the first migration
// creates: before it there is nothing applied.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int]bool, error) {
	var n int
	err := tx.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil || n == 0 {
		return map[int]bool{}, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}
