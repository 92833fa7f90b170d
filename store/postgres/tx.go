package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// Tx runs fn in one READ COMMITTED transaction. Optimistic writes need
// nothing stronger: every Put checks the version it is based on.
func (db *DB) Tx(ctx context.Context, tenant string, fn func(store.Tx) error) error {
	const op = "postgres.Tx"
	if tenant == "" {
		return sqlbase.Internalf(op, "transaction without a tenant")
	}
	ptx, err := db.pool.Begin(ctx)
	if err != nil {
		return wrap(op, err, "")
	}
	done := false
	defer func() {
		// Also runs when fn panics, so the connection goes back clean.
		if !done {
			rollback(ctx, ptx)
		}
	}()
	if err := fn(&tx{tx: ptx, tenant: tenant}); err != nil {
		return err
	}
	done = true
	if err := ptx.Commit(ctx); err != nil {
		return wrap(op, err, "transaction conflicts with another")
	}
	return nil
}

// tx is store.Tx on a pgx transaction.
type tx struct {
	tx     pgx.Tx
	tenant string
}

func (t *tx) Read(ctx context.Context, typ, id string) (store.Record, error) {
	return readCurrent(ctx, t.tx, "postgres.Tx.Read", t.tenant, typ, id)
}

func (t *tx) ReadVersion(ctx context.Context, typ, id string, version int64) (store.Record, error) {
	return readVersion(ctx, t.tx, "postgres.Tx.ReadVersion", t.tenant, typ, id, version)
}

// Put writes a version, its history row and its index rows in one
// statement (see put.go).
func (t *tx) Put(ctx context.Context, w store.Write) error {
	const op = "postgres.Tx.Put"
	query, args, err := putStatement(op, t.tenant, w, false)
	if err != nil {
		return err
	}
	var n int64
	if err := t.tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return wrap(op, err, w.Record.Type+"/"+w.Record.ID+" version already exists")
	}
	if n == 0 {
		return sqlbase.Conflict(op, sqlbase.PutConflict(w), nil)
	}
	return nil
}

// PutAll writes many versions in one round trip: the Put statements go to
// the server as one pipelined batch. A transaction Bundle's writes use it.
// The first write that loses its race fails the call (and so the
// transaction).
func (t *tx) PutAll(ctx context.Context, ws []store.Write) error {
	const op = "postgres.Tx.PutAll"
	if len(ws) > 1 && allCreates(ws) {
		return t.createAll(ctx, op, ws)
	}
	batch := &pgx.Batch{}
	for _, w := range ws {
		query, args, err := putStatement(op, t.tenant, w, false)
		if err != nil {
			return err
		}
		batch.Queue(query, args...)
	}
	results := t.tx.SendBatch(ctx, batch)
	for _, w := range ws {
		var n int64
		if err := results.QueryRow().Scan(&n); err != nil {
			results.Close()
			return wrap(op, err, w.Record.Type+"/"+w.Record.ID+" version already exists")
		}
		if n == 0 {
			results.Close()
			return sqlbase.Conflict(op, sqlbase.PutConflict(w), nil)
		}
	}
	if err := results.Close(); err != nil {
		return wrap(op, err, "")
	}
	return nil
}

func allCreates(ws []store.Write) bool {
	for _, w := range ws {
		if w.PrevVersion != 0 {
			return false
		}
	}
	return true
}

// createAll writes creates in one statement (createManyListSQL; an import's
// transaction Bundle is hundreds of them) and names the first that lost its
// race, as PutAll's statement-per-write path does.
func (t *tx) createAll(ctx context.Context, op string, ws []store.Write) error {
	args, err := createManyArgs(op, t.tenant, ws)
	if err != nil {
		return err
	}
	rows, err := t.tx.Query(ctx, createManyListSQL, args...)
	if err != nil {
		return wrap(op, err, "")
	}
	written := map[[2]string]bool{}
	var typ, id string
	_, err = pgx.ForEachRow(rows, []any{&typ, &id}, func() error {
		written[[2]string{typ, id}] = true
		return nil
	})
	if err != nil {
		return wrap(op, err, "a version of the batch already exists")
	}
	for _, w := range ws {
		if !written[[2]string{w.Record.Type, w.Record.ID}] {
			return sqlbase.Conflict(op, sqlbase.PutConflict(w), nil)
		}
	}
	if len(written) != len(ws) { // the same resource twice in ws
		return sqlbase.Conflict(op, "the batch creates one resource twice", nil)
	}
	return nil
}

// putStatement returns the statement and arguments that write w; strict
// statements fail when the write loses its race instead of answering 0.
func putStatement(op, tenant string, w store.Write, strict bool) (string, []any, error) {
	if err := sqlbase.CheckWrite(op, w); err != nil {
		return "", nil, err
	}
	r := w.Record
	args := []any{tenant, r.Type, r.ID, r.Version, sqlbase.Micros(r.LastUpdated), r.Deleted, sqlbase.StoredBody(r)}
	args = append(args, indexArgs(sqlbase.IndexRows(w))...)
	create, update := createSQL, updateSQL
	if strict {
		create, update = createStrictSQL, updateStrictSQL
	}
	if w.PrevVersion == 0 {
		return create, args, nil
	}
	return update, append(args, w.PrevVersion), nil
}

// FindTokens returns the sorted ids of resources with a matching token row.
// Rows exist only for current, non-deleted versions, so no join is needed.
// It runs in QueryExecModeExec so PostgreSQL plans it for the actual values:
// a cached generic plan on skewed codes is orders of magnitude slower.
func (t *tx) FindTokens(ctx context.Context, q store.TokenQuery) ([]string, error) {
	const op = "postgres.Tx.FindTokens"
	query := `SELECT DISTINCT id FROM token_idx WHERE tenant_id = $1 AND type = $2 AND param = $3 AND code = $4`
	args := []any{pgx.QueryExecModeExec, t.tenant, q.Type, q.Param, q.Code}
	if !q.AnySystem {
		query += ` AND system = $5`
		args = append(args, q.System)
	}
	query += ` ORDER BY id`
	if q.Limit > 0 {
		query += ` LIMIT ` + strconv.Itoa(q.Limit)
	}
	rows, err := t.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, wrap(op, err, "")
	}
	return ids, nil
}
