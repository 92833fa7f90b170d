package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ crypt.BodyStore = (*DB)(nil)

// CountBodies counts the tenant's stored bodies, current and history.
func (db *DB) CountBodies(ctx context.Context, tenant string) (int, error) {
	const op = "postgres.CountBodies"
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM resource_history WHERE tenant_id = $1 AND body IS NOT NULL) +
		(SELECT count(*) FROM resources WHERE tenant_id = $1 AND body IS NOT NULL)`, tenant).Scan(&n)
	return int(n), wrap(op, err, "")
}

// ScanBodies pages through history rows, then current rows.
func (db *DB) ScanBodies(ctx context.Context, tenant, cursor string, limit int) ([]crypt.BodyRow, string, error) {
	const op = "postgres.ScanBodies"
	c, ok := sqlbase.ParseBodyCursor(cursor)
	if !ok || limit <= 0 {
		return nil, "", sqlbase.Internalf(op, "bad cursor %q or limit %d", cursor, limit)
	}
	if !c.Current {
		rows, err := db.pool.Query(ctx, `SELECT seq, type, id, version, body FROM resource_history
			WHERE tenant_id = $1 AND seq > $2 AND body IS NOT NULL ORDER BY seq LIMIT $3`, tenant, c.Seq, limit)
		if err != nil {
			return nil, "", wrap(op, err, "")
		}
		var seq int64
		out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (crypt.BodyRow, error) {
			var r crypt.BodyRow
			err := row.Scan(&seq, &r.Type, &r.ID, &r.Version, &r.Body)
			return r, err
		})
		if err != nil {
			return nil, "", wrap(op, err, "")
		}
		if len(out) < limit {
			return out, sqlbase.FirstCurrentCursor, nil
		}
		return out, sqlbase.HistoryCursor(seq), nil
	}
	rows, err := db.pool.Query(ctx, `SELECT type, id, version, body FROM resources
		WHERE tenant_id = $1 AND (type, id) > ($2, $3) AND body IS NOT NULL ORDER BY type, id LIMIT $4`, tenant, c.Type, c.ID, limit)
	if err != nil {
		return nil, "", wrap(op, err, "")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (crypt.BodyRow, error) {
		r := crypt.BodyRow{Current: true}
		err := row.Scan(&r.Type, &r.ID, &r.Version, &r.Body)
		return r, err
	})
	if err != nil {
		return nil, "", wrap(op, err, "")
	}
	if len(out) < limit {
		return out, "", nil
	}
	last := out[len(out)-1]
	return out, sqlbase.CurrentCursor(last.Type, last.ID), nil
}

// ReplaceBodies swaps bodies in place where rows are unchanged, in one
// transaction sent as one batch.
func (db *DB) ReplaceBodies(ctx context.Context, tenant string, rs []crypt.BodyReplacement) (int, error) {
	const op = "postgres.ReplaceBodies"
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, wrap(op, err, "")
	}
	defer rollback(ctx, tx)
	var b pgx.Batch
	for _, r := range rs {
		table := "resource_history"
		if r.Row.Current {
			table = "resources"
		}
		b.Queue(`UPDATE `+table+` SET body = $1
			WHERE tenant_id = $2 AND type = $3 AND id = $4 AND version = $5 AND body = $6`,
			r.New, tenant, r.Row.Type, r.Row.ID, r.Row.Version, r.Row.Body)
	}
	res := tx.SendBatch(ctx, &b)
	n := 0
	for range rs {
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return 0, wrap(op, err, "")
		}
		n += int(tag.RowsAffected())
	}
	if err := res.Close(); err != nil {
		return 0, wrap(op, err, "")
	}
	return n, wrap(op, tx.Commit(ctx), "")
}
