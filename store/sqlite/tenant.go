package sqlite

import (
	"context"
	"database/sql"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ store.TenantDeleter = (*DB)(nil)

// DeleteTenant removes the tenant's rows from every table with a tenant_id
// (found in the schema, so that tables added later are not forgotten) in
// one transaction, with secure_delete on, then truncates the write-ahead
// log: the tenant's unencrypted elements and index values do not stay
// behind in free space or in the log.
func (db *DB) DeleteTenant(ctx context.Context, tenant string) (int64, error) {
	const op = "sqlite.DeleteTenant"
	if tenant == "" {
		return 0, sqlbase.Internalf(op, "delete without a tenant")
	}
	var n int64
	err := db.secureDelete(ctx, op, func(conn *sql.Conn) error {
		tables, err := tenantTables(ctx, conn)
		if err != nil {
			return wrap(op, err, "")
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return wrap(op, err, "")
		}
		defer tx.Rollback()
		for _, table := range tables {
			res, err := tx.ExecContext(ctx, `DELETE FROM "`+table+`" WHERE tenant_id = ?`, tenant)
			if err != nil {
				return wrap(op, err, "")
			}
			rows, _ := res.RowsAffected()
			n += rows
		}
		return wrap(op, tx.Commit(), "")
	})
	if err != nil {
		return 0, err
	}
	return n, db.ScrubKeys(ctx)
}

// tenantTables lists the tables that have a tenant_id column.
func tenantTables(ctx context.Context, q queryer) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.name FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS c
		WHERE m.type = 'table' AND c.name = 'tenant_id' ORDER BY m.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}
