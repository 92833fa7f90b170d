package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ store.TenantDeleter = (*DB)(nil)

// DeleteTenant removes the tenant's rows from every table with a tenant_id
// in the current schema (found in the catalog, so that tables added later
// are not forgotten) in one transaction. The rows stay as dead tuples until
// vacuum reuses their space, and in the write-ahead log and backups: only
// what field encryption sealed is beyond reach once the keys are gone.
func (db *DB) DeleteTenant(ctx context.Context, tenant string) (int64, error) {
	const op = "postgres.DeleteTenant"
	if tenant == "" {
		return 0, sqlbase.Internalf(op, "delete without a tenant")
	}
	var n int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'tenant_id' AND table_name IN
				(SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
			ORDER BY table_name`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, table := range tables {
			tag, err := tx.Exec(ctx, `DELETE FROM `+pgx.Identifier{table}.Sanitize()+` WHERE tenant_id = $1`, tenant)
			if err != nil {
				return err
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return 0, wrap(op, err, "")
	}
	return n, nil
}
