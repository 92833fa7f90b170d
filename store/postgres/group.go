package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ store.GroupWriter = (*DB)(nil)

// CommitGroup sends a group's writes and its audit append as one pipelined
// batch outside any explicit transaction: PostgreSQL runs the messages up
// to the batch's one Sync as a single implicit transaction, so the group
// costs one round trip and one commit, and when a strict statement fails
// (a lost race, a moved chain head) the server skips the rest and rolls
// the whole group back.
func (db *DB) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	const op = "postgres.CommitGroup"
	if tenant == "" {
		return store.AuditHead{}, sqlbase.Internalf(op, "group without a tenant")
	}
	if len(entries) > 0 {
		if err := sqlbase.CheckAudit(op, head, entries); err != nil {
			return store.AuditHead{}, err
		}
	}
	batch := &pgx.Batch{}
	// The group's creates go first, in one statement when there are
	// several (createManySQL); its updates follow one by one. Creating
	// first changes no outcome: a create of an id the group also updates
	// must precede the update anyway, and one of an id that exists fails
	// wherever it stands.
	var creates, updates []store.Write
	for _, w := range ws {
		if w.PrevVersion == 0 {
			creates = append(creates, w)
		} else {
			updates = append(updates, w)
		}
	}
	if len(creates) > 1 {
		args, err := createManyArgs(op, tenant, creates)
		if err != nil {
			return store.AuditHead{}, err
		}
		batch.Queue(createManySQL, args...)
		creates = nil
	}
	for _, w := range append(creates, updates...) {
		query, args, err := putStatement(op, tenant, w, true)
		if err != nil {
			return store.AuditHead{}, err
		}
		batch.Queue(query, args...)
	}
	// The head moves last but one, after the writes. held is called as
	// the move's result arrives, which is with all the others after the
	// commit: in a pipeline PostgreSQL keeps its output until the Sync.
	// Asking it to flush right after the move (a Flush message, which
	// pgx's Batch cannot send) would let the next group go while this one
	// commits, but measured it costs more than it gives: one tenant's
	// commits reach the disk one after the other whatever overlaps (the
	// head row's lock is held until the commit is durable), so the groups
	// only get smaller (docs/benchmarks-history.md, seventh session). The move
	// would then also need a statement of its own that waits for the lock
	// first (SELECT … FOR NO KEY UPDATE): auditMoveSQL reads the head as
	// it was when the statement began and fails its guard instead of
	// waiting.
	moved := -1
	if len(entries) > 0 {
		moved = queueAudit(batch, tenant, head, entries)
	}
	after := store.HeadAfter(head, entries)
	if moved < 0 && held != nil {
		held(after) // the group leaves the head alone
	}
	if batch.Len() == 0 {
		return head, nil
	}
	results := db.pool.SendBatch(ctx, batch)
	var first error
	for i := range batch.Len() {
		if _, err := results.Exec(); err != nil && first == nil {
			first = err
		}
		if i == moved && held != nil {
			held(after)
		}
	}
	if err := results.Close(); err != nil && first == nil {
		first = err
	}
	if first != nil {
		return store.AuditHead{}, groupError(op, first)
	}
	return after, nil
}

// groupError maps the strict statements' division by zero to the conflict
// it stands for.
func groupError(op string, err error) error {
	if isDivisionByZero(err) {
		return sqlbase.Conflict(op, "a write of the group lost its race, or the audit chain moved on", err)
	}
	return wrap(op, err, "a version of the group already exists")
}

// isDivisionByZero reports the error a strict statement (auditMoveSQL,
// putSQL's strict form) fails with when its guard does not hold.
func isDivisionByZero(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "22012"
}
