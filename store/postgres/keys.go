package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var (
	_ crypt.KeyStore    = (*DB)(nil)
	_ crypt.KeyScrubber = (*DB)(nil)
)

// TenantKeys lists a tenant's wrapped keys by purpose and version.
func (db *DB) TenantKeys(ctx context.Context, tenant string) ([]crypt.WrappedKey, error) {
	const op = "postgres.TenantKeys"
	rows, err := db.pool.Query(ctx, `SELECT purpose, version, kek_id, wrapped, created_at
		FROM tenant_keys WHERE tenant_id = $1 ORDER BY purpose, version`, tenant)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (crypt.WrappedKey, error) {
		k := crypt.WrappedKey{Tenant: tenant}
		var purpose string
		var version int32
		var created int64
		err := row.Scan(&purpose, &version, &k.KEKID, &k.Wrapped, &created)
		k.Purpose, k.Version, k.CreatedAt = crypt.Purpose(purpose), int(version), sqlbase.Time(created)
		return k, err
	})
	if err != nil {
		return nil, wrap(op, err, "")
	}
	return keys, nil
}

// AddTenantKey stores a new wrapped key.
func (db *DB) AddTenantKey(ctx context.Context, k crypt.WrappedKey) error {
	const op = "postgres.AddTenantKey"
	if k.Tenant == "" {
		return sqlbase.Internalf(op, "key without a tenant")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO tenant_keys (tenant_id, purpose, version, kek_id, wrapped, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.Tenant, string(k.Purpose), int32(k.Version), k.KEKID, k.Wrapped, sqlbase.Micros(k.CreatedAt))
	return wrap(op, err, "key version already exists")
}

// RewrapTenantKey replaces the wrapping of an existing key.
func (db *DB) RewrapTenantKey(ctx context.Context, k crypt.WrappedKey) error {
	const op = "postgres.RewrapTenantKey"
	tag, err := db.pool.Exec(ctx, `UPDATE tenant_keys SET kek_id = $1, wrapped = $2
		WHERE tenant_id = $3 AND purpose = $4 AND version = $5`, k.KEKID, k.Wrapped, k.Tenant, string(k.Purpose), int32(k.Version))
	if err != nil {
		return wrap(op, err, "")
	}
	if tag.RowsAffected() == 0 {
		return sqlbase.NotFound(op, "key")
	}
	return nil
}

// DeleteTenantKeys destroys a tenant's keys, then scrubs the table.
func (db *DB) DeleteTenantKeys(ctx context.Context, tenant string) error {
	const op = "postgres.DeleteTenantKeys"
	if _, err := db.pool.Exec(ctx, `DELETE FROM tenant_keys WHERE tenant_id = $1`, tenant); err != nil {
		return wrap(op, err, "")
	}
	return db.ScrubKeys(ctx)
}

// ScrubKeys rewrites the keys table (VACUUM FULL) so that deleted and
// re-wrapped keys do not linger as dead tuples in its pages, where a copy of
// the data files would still find them. The table is small: the rewrite
// takes milliseconds, under a lock that only key loads wait for. Archived
// write-ahead log is outside its reach (see crypt's package documentation
// on backups).
func (db *DB) ScrubKeys(ctx context.Context) error {
	const op = "postgres.ScrubKeys"
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return wrap(op, err, "")
	}
	defer conn.Release()
	// VACUUM cannot run in a transaction block; without arguments pgx sends
	// each statement on the simple protocol, outside any transaction.
	_, err = conn.Exec(ctx, `SET lock_timeout = '10s'`)
	if err == nil {
		_, err = conn.Exec(ctx, `VACUUM (FULL) tenant_keys`)
	}
	_, rerr := conn.Exec(context.WithoutCancel(ctx), `RESET lock_timeout`)
	if err := errors.Join(err, rerr); err != nil {
		return wrap(op, err, "")
	}
	return nil
}

// KeyTenants lists the tenants that have keys.
func (db *DB) KeyTenants(ctx context.Context) ([]string, error) {
	const op = "postgres.KeyTenants"
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT tenant_id FROM tenant_keys ORDER BY tenant_id`)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(op, err, "")
	}
	return out, nil
}
