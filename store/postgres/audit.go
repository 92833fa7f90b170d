package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var (
	_ store.AuditTx  = (*tx)(nil)
	_ store.AuditLog = (*DB)(nil)
)

var (
	auditHeadSQL       = sqlbase.Dollar(sqlbase.AuditHeadSQL)
	auditLockSQL       = auditHeadSQL + ` FOR UPDATE`
	auditInitSQL       = sqlbase.Dollar(sqlbase.AuditInitSQL)
	auditReadSQL       = sqlbase.Dollar(sqlbase.AuditReadSQL)
	auditPurgeEndSQL   = sqlbase.Dollar(sqlbase.AuditPurgeEndSQL)
	auditPurgeSQL      = sqlbase.Dollar(sqlbase.AuditPurgeSQL)
	auditAnchorSQL     = sqlbase.Dollar(sqlbase.AuditAnchorSQL)
	auditPurgeIndexSQL = sqlbase.Dollar(sqlbase.AuditPurgeIndexSQL)
	auditIndexedSQL    = sqlbase.Dollar(sqlbase.AuditIndexedSQL)
	auditIndexLockSQL  = auditIndexedSQL + ` FOR UPDATE`
	auditIndexInitSQL  = sqlbase.Dollar(sqlbase.AuditIndexInitSQL)
	auditIndexMoveSQL  = sqlbase.Dollar(sqlbase.AuditIndexMoveSQL)
	auditAnchorSeqSQL  = sqlbase.Dollar(sqlbase.AuditAnchorSeqSQL)
	auditIndexPutSQL   = `INSERT INTO audit_index (tenant_id, ` + sqlbase.AuditIndexColumns + `)
		SELECT $1, v.seq, v.recorded, v.param, v.system, v.value
		FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[]) AS v(seq, recorded, param, system, value)`
	// auditMoveSQL moves the chain head from the one the entries continue
	// (sequence and hash) to their last, and fails (division by zero) when
	// the head is elsewhere, which aborts the transaction or pipelined
	// group it is in. One prepared on a head that another move has not
	// committed yet fails at once rather than waiting for it: the
	// statement reads the head as committed when it began (see
	// CommitGroup).
	auditMoveSQL = `WITH head AS (
		UPDATE audit_chain SET seq = $2, hash = $3 WHERE tenant_id = $1 AND seq = $4 AND hash = $5 RETURNING 1
	) SELECT 1 / (SELECT count(*)::int FROM head)`
	auditPutSQL = `INSERT INTO audit_events (tenant_id, ` + sqlbase.AuditColumns + `)
		SELECT $1, u.seq, u.id, u.recorded, u.prev_hash, u.hash, u.body
		FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bytea[], $6::bytea[], $7::bytea[])
			AS u(seq, id, recorded, prev_hash, hash, body)`
)

// AuditHead locks the tenant's chain head row (SELECT … FOR UPDATE) until
// the transaction ends: appends of one tenant take turns.
func (t *tx) AuditHead(ctx context.Context, genesis []byte) (store.AuditHead, error) {
	const op = "postgres.Tx.AuditHead"
	h, err := scanHead(t.tx.QueryRow(ctx, auditLockSQL, t.tenant))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := t.tx.Exec(ctx, auditInitSQL, t.tenant, genesis, genesis); err != nil {
			return store.AuditHead{}, wrap(op, err, "")
		}
		h, err = scanHead(t.tx.QueryRow(ctx, auditLockSQL, t.tenant))
	}
	if err != nil {
		return store.AuditHead{}, wrap(op, err, "")
	}
	return h, nil
}

func scanHead(row pgx.Row) (store.AuditHead, error) {
	var h store.AuditHead
	err := row.Scan(&h.Seq, &h.Hash, &h.AnchorSeq, &h.AnchorHash)
	return h, err
}

// PutAudit moves the head and appends entries: two statements, one round
// trip. A head that moved fails the first, and with it the transaction.
func (t *tx) PutAudit(ctx context.Context, head store.AuditHead, entries []store.AuditEntry) error {
	const op = "postgres.Tx.PutAudit"
	if len(entries) == 0 {
		return nil
	}
	if err := sqlbase.CheckAudit(op, head, entries); err != nil {
		return err
	}
	b := &pgx.Batch{}
	queueAudit(b, t.tenant, head, entries)
	results := t.tx.SendBatch(ctx, b)
	_, err := results.Exec()
	if err == nil {
		_, err = results.Exec()
	}
	if cerr := results.Close(); err == nil {
		err = cerr
	}
	if isDivisionByZero(err) {
		return sqlbase.Conflict(op, "the audit chain moved on", err)
	}
	return wrap(op, err, "an AuditEvent with this id exists")
}

// queueAudit queues the statements that move tenant's chain head from
// head and append entries (auditMoveSQL first), and returns the index of
// the move in b.
func queueAudit(b *pgx.Batch, tenant string, head store.AuditHead, entries []store.AuditEntry) int {
	n := len(entries)
	seqs, ids, recorded := make([]int64, n), make([]string, n), make([]int64, n)
	prevs, hashes, bodies := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	for i, e := range entries {
		seqs[i], ids[i], recorded[i] = e.Seq, e.ID, sqlbase.Micros(e.Recorded)
		prevs[i], hashes[i], bodies[i] = e.PrevHash, e.Hash, e.Body
	}
	last := entries[n-1]
	b.Queue(auditMoveSQL, tenant, last.Seq, last.Hash, head.Seq, head.Hash)
	b.Queue(auditPutSQL, tenant, seqs, ids, recorded, prevs, hashes, bodies)
	return b.Len() - 2
}

// ReadAudit returns one AuditEvent by id.
func (db *DB) ReadAudit(ctx context.Context, tenant, id string) (store.AuditEntry, error) {
	const op = "postgres.ReadAudit"
	e, err := sqlbase.ScanAuditEntry(db.pool.QueryRow(ctx, auditReadSQL, tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AuditEntry{}, sqlbase.NotFound(op, "AuditEvent/"+id)
	}
	return e, wrap(op, err, "")
}

// ScanAudit returns entries in chain order.
func (db *DB) ScanAudit(ctx context.Context, tenant string, q store.AuditQuery) ([]store.AuditEntry, error) {
	query, args := sqlbase.AuditScanSQL(tenant, q)
	return db.queryAudit(ctx, "postgres.ScanAudit", query, args)
}

// queryAudit runs a query for AuditColumns rows (? placeholders).
func (db *DB) queryAudit(ctx context.Context, op, query string, args []any) ([]store.AuditEntry, error) {
	rows, err := db.pool.Query(ctx, sqlbase.Dollar(query), args...)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.AuditEntry, error) {
		return sqlbase.ScanAuditEntry(row)
	})
	return out, wrap(op, err, "")
}

// SearchAudit returns one page of the entries that match q, planned for
// its values as every search is (see searcher).
func (db *DB) SearchAudit(ctx context.Context, tenant string, q store.AuditSearch) (store.AuditPage, error) {
	query, args := sqlbase.AuditSearchSQL(tenant, q)
	var out []store.AuditEntry
	err := searcher{pool: db.pool}.Query(ctx, sqlbase.Dollar(query), args, func(sc sqlbase.Scanner) error {
		e, err := sqlbase.ScanAuditEntry(sc)
		out = append(out, e)
		return err
	})
	if err != nil {
		return store.AuditPage{}, wrap("postgres.SearchAudit", err, "")
	}
	return sqlbase.AuditSearchPage(out, q), nil
}

// AuditChain returns the tenant's chain head.
func (db *DB) AuditChain(ctx context.Context, tenant string) (store.AuditHead, error) {
	const op = "postgres.AuditChain"
	h, err := scanHead(db.pool.QueryRow(ctx, auditHeadSQL, tenant))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AuditHead{}, sqlbase.NotFound(op, "audit chain of tenant "+tenant)
	}
	return h, wrap(op, err, "")
}

// AuditTenants lists tenants with an audit chain.
func (db *DB) AuditTenants(ctx context.Context) ([]string, error) {
	const op = "postgres.AuditTenants"
	rows, err := db.pool.Query(ctx, sqlbase.AuditTenantsSQL)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, wrap(op, err, "")
}

// PurgeAudit removes entries recorded before the cutoff and anchors the
// chain at the last one removed, holding the head lock meanwhile.
func (db *DB) PurgeAudit(ctx context.Context, tenant string, before time.Time) (int64, error) {
	const op = "postgres.PurgeAudit"
	var removed int64
	err := db.Tx(ctx, tenant, func(st store.Tx) error {
		t := st.(*tx)
		if _, err := t.tx.Exec(ctx, auditLockSQL, tenant); err != nil {
			return wrap(op, err, "")
		}
		var seq int64
		var hash []byte
		err := t.tx.QueryRow(ctx, auditPurgeEndSQL, tenant, tenant, sqlbase.Micros(before)).Scan(&seq, &hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return wrap(op, err, "")
		}
		// An indexer writing values of these entries finishes first, and
		// one that starts meanwhile waits (see IndexAudit).
		if _, err := t.tx.Exec(ctx, auditIndexInitSQL, tenant); err != nil {
			return wrap(op, err, "")
		}
		if _, err := t.tx.Exec(ctx, auditIndexLockSQL, tenant); err != nil {
			return wrap(op, err, "")
		}
		if _, err := t.tx.Exec(ctx, auditPurgeIndexSQL, tenant, seq); err != nil {
			return wrap(op, err, "")
		}
		tag, err := t.tx.Exec(ctx, auditPurgeSQL, tenant, seq)
		if err != nil {
			return wrap(op, err, "")
		}
		removed = tag.RowsAffected()
		_, err = t.tx.Exec(ctx, auditAnchorSQL, seq, hash, tenant)
		return wrap(op, err, "")
	})
	return removed, err
}

// AuditIndexed returns the tenant's index position.
func (db *DB) AuditIndexed(ctx context.Context, tenant string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, auditIndexedSQL, tenant).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return seq, wrap("postgres.AuditIndexed", err, "")
}

// IndexAudit writes index values and moves the position. It holds the
// position row locked (FOR UPDATE) while it reads the purge anchor and
// writes, and a purge takes the same lock before it removes index values,
// so values of purged entries are never left behind.
func (db *DB) IndexAudit(ctx context.Context, tenant string, from, to int64, entries []store.AuditEntry) error {
	const op = "postgres.IndexAudit"
	return db.Tx(ctx, tenant, func(st store.Tx) error {
		t := st.(*tx)
		if _, err := t.tx.Exec(ctx, auditIndexInitSQL, tenant); err != nil {
			return wrap(op, err, "")
		}
		var at, anchor int64
		if err := t.tx.QueryRow(ctx, auditIndexLockSQL, tenant).Scan(&at); err != nil {
			return wrap(op, err, "")
		}
		if at != from {
			return sqlbase.Conflict(op, "the audit index moved on", nil)
		}
		if err := t.tx.QueryRow(ctx, auditAnchorSeqSQL, tenant).Scan(&anchor); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return wrap(op, err, "")
		}
		if b := sqlbase.AuditIndexValues(entries, anchor); len(b.Seqs) > 0 {
			if _, err := t.tx.Exec(ctx, auditIndexPutSQL, tenant, b.Seqs, b.Recorded, b.Params, b.Systems, b.Values); err != nil {
				return wrap(op, err, "")
			}
		}
		_, err := t.tx.Exec(ctx, auditIndexMoveSQL, to, tenant, from)
		return wrap(op, err, "")
	})
}
