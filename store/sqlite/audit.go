package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var (
	_ store.AuditTx  = (*tx)(nil)
	_ store.AuditLog = (*DB)(nil)
)

// AuditHead returns the tenant's chain head. The transaction already holds
// SQLite's one write lock (BEGIN IMMEDIATE), which serialises appends.
func (t *tx) AuditHead(ctx context.Context, genesis []byte) (store.AuditHead, error) {
	const op = "sqlite.Tx.AuditHead"
	h, err := auditHead(ctx, t.tx, t.tenant)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := t.tx.ExecContext(ctx, sqlbase.AuditInitSQL, t.tenant, genesis, genesis); err != nil {
			return store.AuditHead{}, wrap(op, err, "")
		}
		h, err = auditHead(ctx, t.tx, t.tenant)
	}
	if err != nil {
		return store.AuditHead{}, wrap(op, err, "")
	}
	return h, nil
}

func auditHead(ctx context.Context, q queryer, tenant string) (store.AuditHead, error) {
	var h store.AuditHead
	err := q.QueryRowContext(ctx, sqlbase.AuditHeadSQL, tenant).Scan(&h.Seq, &h.Hash, &h.AnchorSeq, &h.AnchorHash)
	return h, err
}

// PutAudit appends entries and moves the head past them.
func (t *tx) PutAudit(ctx context.Context, head store.AuditHead, entries []store.AuditEntry) error {
	const op = "sqlite.Tx.PutAudit"
	if len(entries) == 0 {
		return nil
	}
	if err := sqlbase.CheckAudit(op, head, entries); err != nil {
		return err
	}
	last := entries[len(entries)-1]
	res, err := t.tx.ExecContext(ctx, sqlbase.AuditMoveHeadSQL, last.Seq, last.Hash, t.tenant, head.Seq, head.Hash)
	if err != nil {
		return wrap(op, err, "")
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return sqlbase.Conflict(op, "the audit chain moved on", err)
	}
	rows := make([][]any, len(entries))
	for i, e := range entries {
		rows[i] = []any{e.Seq, e.ID, sqlbase.Micros(e.Recorded), e.PrevHash, e.Hash, e.Body}
	}
	err = t.insertRows(ctx, "audit_events", "tenant_id, "+sqlbase.AuditColumns, []any{t.tenant}, rows)
	return wrap(op, err, "an AuditEvent with this id exists")
}

// ReadAudit returns one AuditEvent by id.
func (db *DB) ReadAudit(ctx context.Context, tenant, id string) (store.AuditEntry, error) {
	const op = "sqlite.ReadAudit"
	e, err := sqlbase.ScanAuditEntry(db.read.QueryRowContext(ctx, sqlbase.AuditReadSQL, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuditEntry{}, sqlbase.NotFound(op, "AuditEvent/"+id)
	}
	return e, wrap(op, err, "")
}

// ScanAudit returns entries in chain order.
func (db *DB) ScanAudit(ctx context.Context, tenant string, q store.AuditQuery) ([]store.AuditEntry, error) {
	query, args := sqlbase.AuditScanSQL(tenant, q)
	return db.queryAudit(ctx, "sqlite.ScanAudit", query, args)
}

// SearchAudit returns one page of the entries that match q.
func (db *DB) SearchAudit(ctx context.Context, tenant string, q store.AuditSearch) (store.AuditPage, error) {
	query, args := sqlbase.AuditSearchSQL(tenant, q)
	out, err := db.queryAudit(ctx, "sqlite.SearchAudit", query, args)
	if err != nil {
		return store.AuditPage{}, err
	}
	return sqlbase.AuditSearchPage(out, q), nil
}

// queryAudit runs a query for AuditColumns rows on the read pool.
func (db *DB) queryAudit(ctx context.Context, op, query string, args []any) ([]store.AuditEntry, error) {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e, err := sqlbase.ScanAuditEntry(rows)
		if err != nil {
			return nil, wrap(op, err, "")
		}
		out = append(out, e)
	}
	return out, wrap(op, rows.Err(), "")
}

// AuditChain returns the tenant's chain head.
func (db *DB) AuditChain(ctx context.Context, tenant string) (store.AuditHead, error) {
	const op = "sqlite.AuditChain"
	h, err := auditHead(ctx, db.read, tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuditHead{}, sqlbase.NotFound(op, "audit chain of tenant "+tenant)
	}
	return h, wrap(op, err, "")
}

// AuditTenants lists tenants with an audit chain.
func (db *DB) AuditTenants(ctx context.Context) ([]string, error) {
	const op = "sqlite.AuditTenants"
	rows, err := db.read.QueryContext(ctx, sqlbase.AuditTenantsSQL)
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

// PurgeAudit removes entries recorded before the cutoff and anchors the
// chain at the last one removed.
func (db *DB) PurgeAudit(ctx context.Context, tenant string, before time.Time) (int64, error) {
	const op = "sqlite.PurgeAudit"
	var removed int64
	err := db.Tx(ctx, tenant, func(st store.Tx) error {
		t := st.(*tx)
		var seq int64
		var hash []byte
		err := t.tx.QueryRowContext(ctx, sqlbase.AuditPurgeEndSQL, tenant, tenant, sqlbase.Micros(before)).Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return wrap(op, err, "")
		}
		if _, err := t.tx.ExecContext(ctx, sqlbase.AuditPurgeIndexSQL, tenant, seq); err != nil {
			return wrap(op, err, "")
		}
		res, err := t.tx.ExecContext(ctx, sqlbase.AuditPurgeSQL, tenant, seq)
		if err != nil {
			return wrap(op, err, "")
		}
		if removed, err = res.RowsAffected(); err != nil {
			return wrap(op, err, "")
		}
		_, err = t.tx.ExecContext(ctx, sqlbase.AuditAnchorSQL, seq, hash, tenant)
		return wrap(op, err, "")
	})
	return removed, err
}

// AuditIndexed returns the tenant's index position.
func (db *DB) AuditIndexed(ctx context.Context, tenant string) (int64, error) {
	var seq int64
	err := db.read.QueryRowContext(ctx, sqlbase.AuditIndexedSQL, tenant).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, wrap("sqlite.AuditIndexed", err, "")
}

// IndexAudit writes index values and moves the position. SQLite's one
// writer serialises it with purges: the anchor it reads is the last
// purge's.
func (db *DB) IndexAudit(ctx context.Context, tenant string, from, to int64, entries []store.AuditEntry) error {
	const op = "sqlite.IndexAudit"
	return db.Tx(ctx, tenant, func(st store.Tx) error {
		t := st.(*tx)
		if _, err := t.tx.ExecContext(ctx, sqlbase.AuditIndexInitSQL, tenant); err != nil {
			return wrap(op, err, "")
		}
		res, err := t.tx.ExecContext(ctx, sqlbase.AuditIndexMoveSQL, to, tenant, from)
		if err != nil {
			return wrap(op, err, "")
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return sqlbase.Conflict(op, "the audit index moved on", err)
		}
		var anchor int64
		if err := t.tx.QueryRowContext(ctx, sqlbase.AuditAnchorSeqSQL, tenant).Scan(&anchor); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return wrap(op, err, "")
		}
		rows := sqlbase.AuditIndexValues(entries, anchor).Rows()
		err = t.insertRows(ctx, "audit_index", "tenant_id, "+sqlbase.AuditIndexColumns, []any{tenant}, rows)
		return wrap(op, err, "")
	})
}
