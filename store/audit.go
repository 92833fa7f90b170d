package store

import (
	"context"
	"slices"
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
	// Index holds the entry's searchable values for IndexAudit; reads
	// leave it empty.
	Index []AuditValue
}

// AuditValue is one searchable value of an AuditEvent. Package audit
// extracts them from the stored body, so the store never parses one.
// Param names the search parameter (agent, agent:identifier, entity, type,
// subtype, outcome, source). For a local reference System is the target's
// resource type and Value its id (a reference that is not local has an
// empty System and the whole URL as Value); for a coding or an identifier
// System is its system and Value its code or value.
type AuditValue struct {
	Param  string
	System string
	Value  string
}

// AuditDefaults are the values most AuditEvents share, one per parameter
// that every event has exactly one value of: a REST interaction, a read,
// success, recorded by a server named hearth. The audit index leaves out
// an entry's row for such a parameter when its only value is the default
// (four rows of a read's seven), so an entry without any row for the
// parameter has the default, and a search for the default matches it as
// well as entries indexed with an explicit row for it.
var AuditDefaults = map[string]AuditValue{
	"type":    {Param: "type", System: "http://terminology.hl7.org/CodeSystem/audit-event-type", Value: "rest"},
	"subtype": {Param: "subtype", System: "http://hl7.org/fhir/restful-interaction", Value: "read"},
	"outcome": {Param: "outcome", System: "", Value: "0"},
	"source":  {Param: "source", System: "Device", Value: "hearth"},
}

// CoversDefault reports whether m matches its parameter's default value
// (AuditDefaults), which entries hold without an index row for it.
func (m AuditMatch) CoversDefault() bool {
	d, ok := AuditDefaults[m.Param]
	return ok && (m.Value == "" || m.Value == d.Value) && (len(m.Systems) == 0 || slices.Contains(m.Systems, d.System))
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

// AuditSearch selects AuditEvents of one tenant by their recorded time and
// their indexed values, newest first unless Oldest is set, ties broken by
// Seq. Every condition of When and Where must hold.
type AuditSearch struct {
	When   []AuditWhen
	Where  []AuditCondition
	Oldest bool
	// Count is the page size; 0 returns no entries.
	Count int
	// After continues a previous page: entries after this position in the
	// search's order.
	After *AuditPosition
}

// AuditWhen holds when the recorded time is in one of its ranges.
type AuditWhen []AuditTimeRange

// AuditTimeRange is Low to High in microseconds since the epoch, both
// inclusive; Outside inverts it (the time is before Low or after High).
type AuditTimeRange struct {
	Low, High int64
	Outside   bool
}

// AuditCondition holds when one of its matches does.
type AuditCondition []AuditMatch

// AuditMatch matches an entry with an index value of Param whose Value is
// Value (any value when empty) and whose System is one of Systems (any
// system when empty; []string{""} for none).
type AuditMatch struct {
	Param   string
	Systems []string
	Value   string
}

// AuditPosition is where a page of an AuditSearch ended.
type AuditPosition struct {
	Recorded int64 // microseconds since the epoch
	Seq      int64
}

// AuditPage is one page of an AuditSearch; Next is nil on the last page.
// A page holds at most Count entries, and rarely fewer with a Next (an
// entry that matched one value twice).
type AuditPage struct {
	Entries []AuditEntry
	Next    *AuditPosition
}

// AuditLog is the optional Store capability of reading, searching and
// purging audit chains.
type AuditLog interface {
	// ReadAudit returns the entry with the AuditEvent id; KindNotFound when
	// there is none.
	ReadAudit(ctx context.Context, tenant, id string) (AuditEntry, error)
	// ScanAudit returns entries in Seq order.
	ScanAudit(ctx context.Context, tenant string, q AuditQuery) ([]AuditEntry, error)
	// SearchAudit returns one page of the entries that match q. Its
	// conditions on values (Where) see the entries indexed so far (see
	// AuditIndexed); those on time see every entry.
	SearchAudit(ctx context.Context, tenant string, q AuditSearch) (AuditPage, error)
	// AuditChain returns the tenant's chain head without locking it; a
	// tenant that never audited anything is KindNotFound.
	AuditChain(ctx context.Context, tenant string) (AuditHead, error)
	// AuditTenants lists the tenants that have an audit chain.
	AuditTenants(ctx context.Context) ([]string, error)
	// PurgeAudit removes the oldest entries, up to the last one recorded
	// before the cutoff, with their index values, and moves the anchor to
	// the last removed entry so that the rest of the chain still verifies.
	// It returns how many were removed.
	PurgeAudit(ctx context.Context, tenant string, before time.Time) (int64, error)

	// AuditIndexed returns how far the tenant's audit index goes: the
	// values of every entry up to that Seq are indexed (0: none yet).
	AuditIndexed(ctx context.Context, tenant string) (int64, error)
	// IndexAudit writes the index values of entries (Seq, Recorded and
	// Index set; those a purge has removed meanwhile are skipped) and moves
	// the tenant's index position from from to to, in one transaction.
	// When the position is no longer from (another indexer got there
	// first) it writes nothing and is KindConflict.
	IndexAudit(ctx context.Context, tenant string, from, to int64, entries []AuditEntry) error
}
