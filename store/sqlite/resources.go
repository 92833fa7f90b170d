package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// Read returns the current version of a resource, delete marker included.
func (db *DB) Read(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	return readCurrent(ctx, db.read, "sqlite.Read", tenant, typ, id)
}

// ReadVersion returns one version of a resource.
func (db *DB) ReadVersion(ctx context.Context, tenant, typ, id string, version int64) (store.Record, error) {
	return readVersion(ctx, db.read, "sqlite.ReadVersion", tenant, typ, id, version)
}

// History pages through versions newest first.
func (db *DB) History(ctx context.Context, tenant string, q store.HistoryQuery) (store.HistoryPage, error) {
	const op = "sqlite.History"
	query, args, limit, err := sqlbase.HistorySQL(op, tenant, q, func(int) string { return "?" })
	if err != nil {
		return store.HistoryPage{}, err
	}
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return store.HistoryPage{}, wrap(op, err, "")
	}
	defer rows.Close()
	var out []sqlbase.HistoryRow
	for rows.Next() {
		var h sqlbase.HistoryRow
		var lastUpdated int64
		if err := rows.Scan(&h.Seq, &h.Record.Type, &h.Record.ID, &h.Record.Version,
			&lastUpdated, &h.Record.Deleted, &h.Record.Body); err != nil {
			return store.HistoryPage{}, wrap(op, err, "")
		}
		h.Record.LastUpdated = sqlbase.Time(lastUpdated)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return store.HistoryPage{}, wrap(op, err, "")
	}
	return sqlbase.Page(out, limit), nil
}

func readCurrent(ctx context.Context, q queryer, op, tenant, typ, id string) (store.Record, error) {
	r := store.Record{Type: typ, ID: id}
	var lastUpdated int64
	err := q.QueryRowContext(ctx, `SELECT version, last_updated, deleted, body FROM resources
		WHERE tenant_id = ? AND type = ? AND id = ?`, tenant, typ, id).
		Scan(&r.Version, &lastUpdated, &r.Deleted, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, sqlbase.NotFound(op, typ+"/"+id)
	}
	if err != nil {
		return store.Record{}, wrap(op, err, "")
	}
	r.LastUpdated = sqlbase.Time(lastUpdated)
	return r, nil
}

func readVersion(ctx context.Context, q queryer, op, tenant, typ, id string, version int64) (store.Record, error) {
	r := store.Record{Type: typ, ID: id, Version: version}
	var lastUpdated int64
	err := q.QueryRowContext(ctx, `SELECT last_updated, deleted, body FROM resource_history
		WHERE tenant_id = ? AND type = ? AND id = ? AND version = ?`, tenant, typ, id, version).
		Scan(&lastUpdated, &r.Deleted, &r.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Record{}, sqlbase.NotFound(op, typ+"/"+id+" version")
	}
	if err != nil {
		return store.Record{}, wrap(op, err, "")
	}
	r.LastUpdated = sqlbase.Time(lastUpdated)
	return r, nil
}
