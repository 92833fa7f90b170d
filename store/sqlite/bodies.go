package sqlite

import (
	"context"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ crypt.BodyStore = (*DB)(nil)

// CountBodies counts the tenant's stored bodies, current and history.
func (db *DB) CountBodies(ctx context.Context, tenant string) (int, error) {
	const op = "sqlite.CountBodies"
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM resource_history WHERE tenant_id = ? AND body IS NOT NULL) +
		(SELECT count(*) FROM resources WHERE tenant_id = ? AND body IS NOT NULL)`, tenant, tenant).Scan(&n)
	return n, wrap(op, err, "")
}

// ScanBodies pages through history rows, then current rows.
func (db *DB) ScanBodies(ctx context.Context, tenant, cursor string, limit int) ([]crypt.BodyRow, string, error) {
	const op = "sqlite.ScanBodies"
	c, ok := sqlbase.ParseBodyCursor(cursor)
	if !ok || limit <= 0 {
		return nil, "", sqlbase.Internalf(op, "bad cursor %q or limit %d", cursor, limit)
	}
	if !c.Current {
		rows, err := db.read.QueryContext(ctx, `SELECT seq, type, id, version, body FROM resource_history
			WHERE tenant_id = ? AND seq > ? AND body IS NOT NULL ORDER BY seq LIMIT ?`, tenant, c.Seq, limit)
		if err != nil {
			return nil, "", wrap(op, err, "")
		}
		defer rows.Close()
		var out []crypt.BodyRow
		var seq int64
		for rows.Next() {
			var r crypt.BodyRow
			if err := rows.Scan(&seq, &r.Type, &r.ID, &r.Version, &r.Body); err != nil {
				return nil, "", wrap(op, err, "")
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return nil, "", wrap(op, err, "")
		}
		if len(out) < limit {
			return out, sqlbase.FirstCurrentCursor, nil
		}
		return out, sqlbase.HistoryCursor(seq), nil
	}
	rows, err := db.read.QueryContext(ctx, `SELECT type, id, version, body FROM resources
		WHERE tenant_id = ? AND (type, id) > (?, ?) AND body IS NOT NULL ORDER BY type, id LIMIT ?`, tenant, c.Type, c.ID, limit)
	if err != nil {
		return nil, "", wrap(op, err, "")
	}
	defer rows.Close()
	var out []crypt.BodyRow
	for rows.Next() {
		r := crypt.BodyRow{Current: true}
		if err := rows.Scan(&r.Type, &r.ID, &r.Version, &r.Body); err != nil {
			return nil, "", wrap(op, err, "")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err, "")
	}
	if len(out) < limit {
		return out, "", nil
	}
	last := out[len(out)-1]
	return out, sqlbase.CurrentCursor(last.Type, last.ID), nil
}

// ReplaceBodies swaps bodies in place where rows are unchanged.
func (db *DB) ReplaceBodies(ctx context.Context, tenant string, rs []crypt.BodyReplacement) (int, error) {
	const op = "sqlite.ReplaceBodies"
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, wrap(op, err, "")
	}
	defer tx.Rollback()
	n := 0
	for _, r := range rs {
		table := "resource_history"
		if r.Row.Current {
			table = "resources"
		}
		res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET body = ?
			WHERE tenant_id = ? AND type = ? AND id = ? AND version = ? AND body = ?`,
			r.New, tenant, r.Row.Type, r.Row.ID, r.Row.Version, r.Row.Body)
		if err != nil {
			return 0, wrap(op, err, "")
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, wrap(op, err, "")
		}
		n += int(k)
	}
	return n, wrap(op, tx.Commit(), "")
}
