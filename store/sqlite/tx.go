package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// Tx runs fn in one transaction on the write connection. Do not call Tx (or
// any other write) from inside fn: there is one write connection, and fn
// holds it.
func (db *DB) Tx(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	const op = "sqlite.Tx"
	if tenant == "" {
		return sqlbase.Internalf(op, "transaction without a tenant")
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err, "")
	}
	done := false
	defer func() {
		// Also runs when fn panics, so the connection is never left inside
		// a transaction.
		if !done {
			sqlTx.Rollback()
		}
	}()
	if err := fn(&tx{tx: sqlTx, tenant: tenant}); err != nil {
		return err
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return wrap(op, err, "")
	}
	return nil
}

// tx is store.Tx on a SQLite transaction.
type tx struct {
	tx     *sql.Tx
	tenant string
}

func (t *tx) Read(ctx context.Context, typ, id string) (store.Record, error) {
	return readCurrent(ctx, t.tx, "sqlite.Tx.Read", t.tenant, typ, id)
}

func (t *tx) ReadVersion(ctx context.Context, typ, id string, version int64) (store.Record, error) {
	return readVersion(ctx, t.tx, "sqlite.Tx.ReadVersion", t.tenant, typ, id, version)
}

// Put writes the new current version, then its history row and index rows.
// The first statement decides: it matches no row when the resource exists
// (create) or is not at PrevVersion (update), and then nothing else runs.
func (t *tx) Put(ctx context.Context, w store.Write) error {
	const op = "sqlite.Tx.Put"
	if err := sqlbase.CheckWrite(op, w); err != nil {
		return err
	}
	r := w.Record
	body, lastUpdated := sqlbase.StoredBody(r), sqlbase.Micros(r.LastUpdated)
	var res sql.Result
	var err error
	if w.PrevVersion == 0 {
		res, err = t.tx.ExecContext(ctx, `INSERT INTO resources
			(tenant_id, type, id, version, last_updated, deleted, body) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, t.tenant, r.Type, r.ID, r.Version, lastUpdated, r.Deleted, body)
	} else {
		res, err = t.tx.ExecContext(ctx, `UPDATE resources SET version = ?, last_updated = ?, deleted = ?, body = ?
			WHERE tenant_id = ? AND type = ? AND id = ? AND version = ?`,
			r.Version, lastUpdated, r.Deleted, body, t.tenant, r.Type, r.ID, w.PrevVersion)
	}
	if err != nil {
		return wrap(op, err, "")
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(op, err, "")
	} else if n == 0 {
		return sqlbase.Conflict(op, sqlbase.PutConflict(w), nil)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO resource_history
		(tenant_id, type, id, version, last_updated, deleted, body) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.tenant, r.Type, r.ID, r.Version, lastUpdated, r.Deleted, body); err != nil {
		return wrap(op, err, r.Type+"/"+r.ID+" version already exists")
	}
	if w.PrevVersion != 0 {
		if err := t.deleteIndex(ctx, op, r); err != nil {
			return err
		}
	}
	return t.insertIndex(ctx, op, r, sqlbase.IndexRows(w))
}

// FindTokens returns the sorted ids of resources with a matching token row.
// Rows exist only for current, non-deleted versions, so no join is needed.
func (t *tx) FindTokens(ctx context.Context, q store.TokenQuery) ([]string, error) {
	const op = "sqlite.Tx.FindTokens"
	query := `SELECT DISTINCT id FROM token_idx WHERE tenant_id = ? AND type = ? AND param = ? AND code = ?`
	args := []any{t.tenant, q.Type, q.Param, q.Code}
	if !q.AnySystem {
		query += ` AND system = ?`
		args = append(args, q.System)
	}
	query += ` ORDER BY id`
	if q.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(op, err, "")
		}
		ids = append(ids, id)
	}
	return ids, wrap(op, rows.Err(), "")
}
