package sqlite

import (
	"context"
	"database/sql"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var (
	_ crypt.KeyStore    = (*DB)(nil)
	_ crypt.KeyScrubber = (*DB)(nil)
)

// TenantKeys lists a tenant's wrapped keys by purpose and version.
func (db *DB) TenantKeys(ctx context.Context, tenant string) ([]crypt.WrappedKey, error) {
	const op = "sqlite.TenantKeys"
	rows, err := db.read.QueryContext(ctx, `SELECT purpose, version, kek_id, wrapped, created_at
		FROM tenant_keys WHERE tenant_id = ? ORDER BY purpose, version`, tenant)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	defer rows.Close()
	var keys []crypt.WrappedKey
	for rows.Next() {
		k := crypt.WrappedKey{Tenant: tenant}
		var created int64
		if err := rows.Scan(&k.Purpose, &k.Version, &k.KEKID, &k.Wrapped, &created); err != nil {
			return nil, wrap(op, err, "")
		}
		k.CreatedAt = sqlbase.Time(created)
		keys = append(keys, k)
	}
	return keys, wrap(op, rows.Err(), "")
}

// AddTenantKey stores a new wrapped key.
func (db *DB) AddTenantKey(ctx context.Context, k crypt.WrappedKey) error {
	const op = "sqlite.AddTenantKey"
	if k.Tenant == "" {
		return sqlbase.Internalf(op, "key without a tenant")
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO tenant_keys (tenant_id, purpose, version, kek_id, wrapped, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.Tenant, string(k.Purpose), k.Version, k.KEKID, k.Wrapped, sqlbase.Micros(k.CreatedAt))
	return wrap(op, err, "key version already exists")
}

// RewrapTenantKey replaces the wrapping of an existing key. The old
// wrapping is overwritten with zeros where it was (secure_delete); ScrubKeys
// then empties the log that still holds it.
func (db *DB) RewrapTenantKey(ctx context.Context, k crypt.WrappedKey) error {
	const op = "sqlite.RewrapTenantKey"
	return db.secureDelete(ctx, op, func(conn *sql.Conn) error {
		res, err := conn.ExecContext(ctx, `UPDATE tenant_keys SET kek_id = ?, wrapped = ?
			WHERE tenant_id = ? AND purpose = ? AND version = ?`, k.KEKID, k.Wrapped, k.Tenant, string(k.Purpose), k.Version)
		if err != nil {
			return wrap(op, err, "")
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return sqlbase.NotFound(op, "key")
		}
		return nil
	})
}

// DeleteTenantKeys destroys a tenant's keys. secure_delete makes SQLite
// overwrite the deleted rows with zeros, and the TRUNCATE checkpoint then
// empties the write-ahead log, which still held the pages as they were:
// afterwards no byte of the database files holds the keys.
func (db *DB) DeleteTenantKeys(ctx context.Context, tenant string) error {
	const op = "sqlite.DeleteTenantKeys"
	err := db.secureDelete(ctx, op, func(conn *sql.Conn) error {
		_, err := conn.ExecContext(ctx, `DELETE FROM tenant_keys WHERE tenant_id = ?`, tenant)
		return wrap(op, err, "")
	})
	if err != nil {
		return err
	}
	return db.ScrubKeys(ctx)
}

// ScrubKeys empties the write-ahead log, where pages with deleted or
// replaced keys linger after secure_delete has zeroed them in place.
func (db *DB) ScrubKeys(ctx context.Context) error {
	const op = "sqlite.ScrubKeys"
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return wrap(op, err, "")
	}
	defer conn.Close()
	return checkpoint(ctx, conn, op)
}

// secureDelete runs fn on the write connection with secure_delete on, so
// that what fn deletes or moves is overwritten with zeros, then restores the
// connection's setting (other deletes need not pay for zeroing).
func (db *DB) secureDelete(ctx context.Context, op string, fn func(*sql.Conn) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return wrap(op, err, "")
	}
	defer conn.Close()
	var was int
	if err := conn.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&was); err != nil {
		return wrap(op, err, "")
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return wrap(op, err, "")
	}
	err = fn(conn)
	// Restore the setting on this shared connection whatever happened.
	restore := "OFF"
	switch was {
	case 1:
		restore = "ON"
	case 2:
		restore = "FAST"
	}
	_, rerr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = `+restore)
	if err != nil {
		return err
	}
	return wrap(op, rerr, "")
}

// checkpoint copies the log into the database file and truncates it. A
// reader still using old pages makes it incomplete: that is an error, so the
// caller retries (deleting keys again is harmless).
func checkpoint(ctx context.Context, conn *sql.Conn, op string) error {
	var busy, logFrames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return wrap(op, err, "")
	}
	if busy != 0 {
		return sqlbase.Unavailable(op, errCheckpointBusy)
	}
	return nil
}

// KeyTenants lists the tenants that have keys.
func (db *DB) KeyTenants(ctx context.Context) ([]string, error) {
	const op = "sqlite.KeyTenants"
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT tenant_id FROM tenant_keys ORDER BY tenant_id`)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, wrap(op, err, "")
		}
		out = append(out, t)
	}
	return out, wrap(op, rows.Err(), "")
}
