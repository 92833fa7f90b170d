package store

import (
	"context"

	"github.com/hearth-fhir/hearth/fhir"
)

// GroupWriter is the optional Resources capability of committing several
// requests' writes together with their AuditEvents in one durable commit:
// the audit committer's group commit. A backend offers it when it can do
// better than a transaction of separate statements (PostgreSQL sends the
// whole group as one pipelined round trip).
type GroupWriter interface {
	// CommitGroup writes ws and appends entries, which continue head, as
	// one atomic unit. When any write loses its race (its PrevVersion is no
	// longer current, or its id is taken) or the chain head is no longer
	// head (sequence and hash), nothing at all is written and the error is
	// KindConflict. It returns the chain head after entries.
	//
	// held, when not nil, is called once the group holds the tenant's chain
	// head (or will not take it), with the head the group leaves if it
	// commits: from then on a group prepared on that head may be sent (see
	// audit.Committer). The head is the one over the entries the store
	// writes, which a wrapping store may have changed (sealed bodies). When
	// held comes is the backend's: PostgreSQL answers a pipeline at its
	// end, so there it comes with the commit (see postgres.DB.CommitGroup).
	CommitGroup(ctx context.Context, tenant string, ws []Write, head AuditHead, entries []AuditEntry, held func(AuditHead)) (AuditHead, error)
}

// TxRunner runs a function in one transaction of a tenant: Resources.Tx.
type TxRunner interface {
	Tx(ctx context.Context, tenant string, fn func(Tx) error) error
}

// CommitGroup commits a group through r's GroupWriter when it has one, and
// otherwise in one transaction of r with the same all-or-nothing outcome,
// calling held as the transaction starts (the embedded store's
// transactions hold its one write lock from their start). The head row of
// the tenant's chain must exist (AuditTx.AuditHead creates it); without it
// the group is KindConflict.
func CommitGroup(ctx context.Context, r TxRunner, tenant string, ws []Write, head AuditHead, entries []AuditEntry, held func(AuditHead)) (AuditHead, error) {
	if g, ok := r.(GroupWriter); ok {
		return g.CommitGroup(ctx, tenant, ws, head, entries, held)
	}
	err := r.Tx(ctx, tenant, func(tx Tx) error {
		if held != nil {
			held(HeadAfter(head, entries))
		}
		return putGroup(ctx, tx, ws, head, entries)
	})
	if err != nil {
		return AuditHead{}, err
	}
	return HeadAfter(head, entries), nil
}

// putGroup writes a group inside tx; see GroupWriter.
func putGroup(ctx context.Context, tx Tx, ws []Write, head AuditHead, entries []AuditEntry) error {
	for _, w := range ws {
		if err := tx.Put(ctx, w); err != nil {
			return err
		}
	}
	if len(entries) == 0 {
		return nil
	}
	atx, ok := tx.(AuditTx)
	if !ok {
		return errNoAudit
	}
	return atx.PutAudit(ctx, head, entries)
}

// HeadAfter is the chain head once entries, which continue head, are on it.
func HeadAfter(head AuditHead, entries []AuditEntry) AuditHead {
	if len(entries) == 0 {
		return head
	}
	last := entries[len(entries)-1]
	head.Seq, head.Hash = last.Seq, last.Hash
	return head
}

var errNoAudit = &fhir.Error{Kind: fhir.KindInternal, Op: "store.CommitGroup", Message: "storage failure: the transaction cannot append audit events"}
