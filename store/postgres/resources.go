package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// Read returns the current version of a resource, delete marker included.
func (db *DB) Read(ctx context.Context, tenant, typ, id string) (store.Record, error) {
	return readCurrent(ctx, db.pool, "postgres.Read", tenant, typ, id)
}

// ReadVersion returns one version of a resource.
func (db *DB) ReadVersion(ctx context.Context, tenant, typ, id string, version int64) (store.Record, error) {
	return readVersion(ctx, db.pool, "postgres.ReadVersion", tenant, typ, id, version)
}

// History pages through versions newest first.
func (db *DB) History(ctx context.Context, tenant string, q store.HistoryQuery) (store.HistoryPage, error) {
	const op = "postgres.History"
	query, args, limit, err := sqlbase.HistorySQL(op, tenant, q, func(n int) string { return "$" + strconv.Itoa(n) })
	if err != nil {
		return store.HistoryPage{}, err
	}
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return store.HistoryPage{}, wrap(op, err, "")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (sqlbase.HistoryRow, error) {
		var h sqlbase.HistoryRow
		var lastUpdated int64
		err := row.Scan(&h.Seq, &h.Record.Type, &h.Record.ID, &h.Record.Version,
			&lastUpdated, &h.Record.Deleted, &h.Record.Body)
		h.Record.LastUpdated = sqlbase.Time(lastUpdated)
		return h, err
	})
	if err != nil {
		return store.HistoryPage{}, wrap(op, err, "")
	}
	return sqlbase.Page(out, limit), nil
}

func readCurrent(ctx context.Context, q querier, op, tenant, typ, id string) (store.Record, error) {
	r := store.Record{Type: typ, ID: id}
	var lastUpdated int64
	err := q.QueryRow(ctx, `SELECT version, last_updated, deleted, body FROM resources
		WHERE tenant_id = $1 AND type = $2 AND id = $3`, tenant, typ, id).
		Scan(&r.Version, &lastUpdated, &r.Deleted, &r.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, sqlbase.NotFound(op, typ+"/"+id)
	}
	if err != nil {
		return store.Record{}, wrap(op, err, "")
	}
	r.LastUpdated = sqlbase.Time(lastUpdated)
	return r, nil
}

func readVersion(ctx context.Context, q querier, op, tenant, typ, id string, version int64) (store.Record, error) {
	r := store.Record{Type: typ, ID: id, Version: version}
	var lastUpdated int64
	err := q.QueryRow(ctx, `SELECT last_updated, deleted, body FROM resource_history
		WHERE tenant_id = $1 AND type = $2 AND id = $3 AND version = $4`, tenant, typ, id, version).
		Scan(&lastUpdated, &r.Deleted, &r.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Record{}, sqlbase.NotFound(op, typ+"/"+id+" version")
	}
	if err != nil {
		return store.Record{}, wrap(op, err, "")
	}
	r.LastUpdated = sqlbase.Time(lastUpdated)
	return r, nil
}
