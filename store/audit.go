package store

import (
	"context"
	"time"
)

// AuditEntry is one AuditEvent in a tenant's audit chain. Hash is
// SHA-256(PrevHash || Body) and PrevHash the Hash of the entry before (see
// package audit), so editing, removing or reordering entries shows.
type AuditEntry struct {
	Seq      int64 // 1, 2, 3 … per tenant, without gaps
	ID       string
	Recorded time.Time // UTC, microsecond precision
	PrevHash []byte
	Hash     []byte
	Body     []byte // the AuditEvent JSON exactly as served
}

// AuditHead is where a tenant's chain stands: its last entry and the anchor
// left by purges (the last purged entry; seq 0 and the genesis hash when
// nothing was purged).
type AuditHead struct {
	Seq        int64
	Hash       []byte
	AnchorSeq  int64
	AnchorHash []byte
}

// AuditTx is the optional Tx capability of appending to the tenant's audit
// chain inside the transaction, so that a write and its AuditEvent commit
// together.
type AuditTx interface {
	// AuditHead locks the tenant's chain head until the transaction ends
	// and returns it, creating it with genesis as its hash on first use.
	// Appends of one tenant are serialised by this lock.
	AuditHead(ctx context.Context, genesis []byte) (AuditHead, error)
	// PutAudit appends entries that continue head: their Seq follow
	// head.Seq without gaps and the first PrevHash is head.Hash. Anything
	// else is KindConflict.
	PutAudit(ctx context.Context, head AuditHead, entries []AuditEntry) error
}

// AuditQuery selects entries of one tenant in Seq order.
type AuditQuery struct {
	After int64     // only entries with Seq > After
	From  time.Time // only entries recorded at or after From (zero: any)
	To    time.Time // only entries recorded before To (zero: any)
	Limit int       // at most Limit entries (0: the store's default, 1000)
}

// AuditLog is the optional Store capability of reading and purging audit
// chains.
type AuditLog interface {
	// ReadAudit returns the entry with the AuditEvent id; KindNotFound when
	// there is none.
	ReadAudit(ctx context.Context, tenant, id string) (AuditEntry, error)
	// ScanAudit returns entries in Seq order.
	ScanAudit(ctx context.Context, tenant string, q AuditQuery) ([]AuditEntry, error)
	// AuditChain returns the tenant's chain head without locking it; a
	// tenant that never audited anything is KindNotFound.
	AuditChain(ctx context.Context, tenant string) (AuditHead, error)
	// AuditTenants lists the tenants that have an audit chain.
	AuditTenants(ctx context.Context) ([]string, error)
	// PurgeAudit removes the oldest entries, up to the last one recorded
	// before the cutoff, and moves the anchor to the last removed entry so
	// that the rest of the chain still verifies. It returns how many were
	// removed.
	PurgeAudit(ctx context.Context, tenant string, before time.Time) (int64, error)
}
