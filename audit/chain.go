package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Genesis is the hash the first entry of every chain links to.
var Genesis = make([]byte, sha256.Size)

// Hash links an AuditEvent body to the hash of the entry before it:
// SHA-256(prev || body). The body is hashed exactly as stored and served.
func Hash(prev, body []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(body)
	return h.Sum(nil)
}

// Record is an AuditEvent ready to append to a chain.
type Record struct {
	ID       string
	Recorded time.Time
	Body     []byte
}

// Log turns Events into Records: it assigns ids and times and names this
// server in every event.
type Log struct {
	server ServerRef
	now    func() time.Time
	newID  func() string
}

// LogOption sets an optional Log dependency.
type LogOption func(*Log)

// WithClock injects the clock.
func WithClock(now func() time.Time) LogOption { return func(l *Log) { l.now = now } }

// WithIDs injects the AuditEvent id generator.
func WithIDs(newID func() string) LogOption { return func(l *Log) { l.newID = newID } }

// NewLog returns a Log whose events name server as observer and destination.
func NewLog(server ServerRef, opts ...LogOption) *Log {
	l := &Log{server: server, now: time.Now, newID: fhir.NewID}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Record builds the AuditEvent of ev, filling in its id, time and server.
func (l *Log) Record(ev Event) (Record, error) {
	if ev.ID == "" {
		ev.ID = l.newID()
	}
	if ev.Recorded.IsZero() {
		ev.Recorded = l.now()
	}
	ev.Recorded = ev.Recorded.UTC().Truncate(time.Microsecond)
	ev.Server = l.server
	body, err := Build(ev)
	if err != nil {
		return Record{}, err
	}
	return Record{ID: ev.ID, Recorded: ev.Recorded, Body: body}, nil
}

// Append links records to the chain of tx's tenant and writes them in tx,
// so they commit or roll back with whatever else tx writes. It locks the
// tenant's chain head until tx ends: call it last in a transaction.
func Append(ctx context.Context, tx store.Tx, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	atx, ok := tx.(store.AuditTx)
	if !ok {
		return errNoAudit(tx)
	}
	head, err := atx.AuditHead(ctx, Genesis)
	if err != nil {
		return err
	}
	return atx.PutAudit(ctx, head, link(head, recs))
}

// link chains records onto head.
func link(head store.AuditHead, recs []Record) []store.AuditEntry {
	if len(recs) == 0 {
		return nil
	}
	entries := make([]store.AuditEntry, len(recs))
	prev, seq := head.Hash, head.Seq
	for i, r := range recs {
		seq++
		h := Hash(prev, r.Body)
		entries[i] = store.AuditEntry{Seq: seq, ID: r.ID, Recorded: r.Recorded, PrevHash: prev, Hash: h, Body: r.Body}
		prev = h
	}
	return entries
}

func errNoAudit(tx store.Tx) error {
	return &fhir.Error{Kind: fhir.KindInternal, Op: "audit.Append", Message: "storage failure",
		Cause: fmt.Errorf("store transaction %T cannot append audit events", tx)}
}

// Break is where a chain stops verifying.
type Break struct {
	Seq    int64
	ID     string
	Reason string
}

func (b Break) String() string {
	if b.ID == "" {
		return fmt.Sprintf("entry %d: %s", b.Seq, b.Reason)
	}
	return fmt.Sprintf("entry %d (AuditEvent/%s): %s", b.Seq, b.ID, b.Reason)
}

// Report is the result of verifying one tenant's chain.
type Report struct {
	Tenant  string
	First   int64 // first entry checked (after the purge anchor)
	Last    int64 // the head when verification started
	Checked int64
	Break   *Break // nil when the chain is whole
}

// verifyPage is how many entries Verify reads at a time.
const verifyPage = 1000

// Verify walks the tenant's chain from its purge anchor to the head it
// finds on starting and reports the first entry that breaks it: a gap, an
// entry that does not link to the one before, a body or hash that was
// changed, an id that does not match the body, or a chain that ends before
// its head. Entries appended while it runs are not checked.
func Verify(ctx context.Context, log store.AuditLog, tenant string) (Report, error) {
	rep := Report{Tenant: tenant}
	head, err := log.AuditChain(ctx, tenant)
	if err != nil {
		return rep, err
	}
	rep.First, rep.Last = head.AnchorSeq+1, head.Seq
	prevSeq, prevHash := head.AnchorSeq, head.AnchorHash
	for prevSeq < head.Seq {
		page, err := log.ScanAudit(ctx, tenant, store.AuditQuery{After: prevSeq, Limit: verifyPage})
		if err != nil {
			return rep, err
		}
		if len(page) == 0 {
			rep.Break = &Break{Seq: prevSeq + 1, Reason: fmt.Sprintf("missing: the chain ends at %d but its head is at %d", prevSeq, head.Seq)}
			return rep, nil
		}
		for _, e := range page {
			if prevSeq == head.Seq {
				break // appended after verification started
			}
			if b := check(e, prevSeq, prevHash); b != nil {
				rep.Break = b
				return rep, nil
			}
			rep.Checked++
			prevSeq, prevHash = e.Seq, e.Hash
		}
	}
	if !bytes.Equal(prevHash, head.Hash) {
		rep.Break = &Break{Seq: head.Seq, Reason: "the head's hash does not match the last entry"}
	}
	return rep, nil
}

// check verifies one entry against the one before it.
func check(e store.AuditEntry, prevSeq int64, prevHash []byte) *Break {
	switch {
	case e.Seq != prevSeq+1:
		return &Break{Seq: prevSeq + 1, Reason: fmt.Sprintf("missing: entries %d to %d are gone", prevSeq+1, e.Seq-1)}
	case !bytes.Equal(e.PrevHash, prevHash):
		return &Break{Seq: e.Seq, ID: e.ID, Reason: "does not link to the entry before it"}
	case !bytes.Equal(e.Hash, Hash(e.PrevHash, e.Body)):
		return &Break{Seq: e.Seq, ID: e.ID, Reason: "its content was changed: the hash does not match"}
	}
	var body struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(e.Body, &body) != nil || body.ResourceType != "AuditEvent" || body.ID != e.ID {
		return &Break{Seq: e.Seq, ID: e.ID, Reason: "its id does not match its AuditEvent"}
	}
	return nil
}
