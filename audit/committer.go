package audit

import (
	"context"
	"sync"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// TxRunner runs a function in one database transaction for a tenant. A
// store that is also a store.GroupWriter commits groups its own faster way.
type TxRunner = store.TxRunner

// maxBatch bounds how many requests one group commit serves.
const maxBatch = 512

// groupTimeout bounds the commits of one batch.
const groupTimeout = 30 * time.Second

// Committer appends AuditEvents by group commit, with the writes they
// record: one goroutine takes every request waiting, commits their writes
// and events per tenant as one group (store.CommitGroup: one round trip
// and one durable commit on PostgreSQL), and answers each request when its
// group has committed. While one group commits the next one gathers, so
// under load many requests share one commit, and a request still returns
// only after its AuditEvent is on disk.
//
// The committer keeps each tenant's chain head in memory, so a group needs
// no read of it. Groups are guarded by the head they continue: when
// something else appended meanwhile (a transaction Bundle, another server
// on the same database) the group fails whole, the head is read again and
// the requests are committed one by one.
type Committer struct {
	st      TxRunner
	reqs    chan *pending
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	heads   map[string]store.AuditHead // owned by run
}

type pending struct {
	tenant string
	writes []store.Write
	recs   []Record
	done   chan error
}

// ErrClosed is returned by Commit after Close.
var ErrClosed = &fhir.Error{Kind: fhir.KindUnavailable, Op: "audit.Commit", Message: "the server is shutting down"}

// NewCommitter starts a committer over st; Close stops it.
func NewCommitter(st TxRunner) *Committer {
	c := &Committer{st: st, reqs: make(chan *pending, maxBatch), stop: make(chan struct{}), stopped: make(chan struct{}),
		heads: map[string]store.AuditHead{}}
	go c.run()
	return c
}

// Commit appends recs to tenant's chain and returns once they are durably
// committed, or with the error that kept them from it. If ctx ends first,
// Commit returns ctx's error; the records may still be committed.
func (c *Committer) Commit(ctx context.Context, tenant string, recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	return c.submit(ctx, &pending{tenant: tenant, recs: recs, done: make(chan error, 1)})
}

// CommitWrites writes ws and appends recs, the AuditEvents that record
// them, in one group commit: both or neither. A write that lost its race
// (see store.Write.PrevVersion) is KindConflict, and nothing of the
// request is written.
func (c *Committer) CommitWrites(ctx context.Context, tenant string, ws []store.Write, recs ...Record) error {
	return c.submit(ctx, &pending{tenant: tenant, writes: ws, recs: recs, done: make(chan error, 1)})
}

func (c *Committer) submit(ctx context.Context, p *pending) error {
	select {
	case c.reqs <- p:
	case <-c.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-c.stopped:
		// Queued after the committer drained: nobody will answer.
		select {
		case err := <-p.done:
			return err
		default:
			return ErrClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the committer after the batch in flight; requests still
// queued fail with ErrClosed.
func (c *Committer) Close() {
	c.once.Do(func() { close(c.stop) })
	<-c.stopped
}

func (c *Committer) run() {
	defer close(c.stopped)
	for {
		var batch []*pending
		select {
		case p := <-c.reqs:
			batch = append(batch, p)
		case <-c.stop:
			c.drain()
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case p := <-c.reqs:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		c.commit(batch)
	}
}

// commit commits a batch, one group per tenant in order of arrival.
func (c *Committer) commit(batch []*pending) {
	var tenants []string
	byTenant := map[string][]*pending{}
	for _, p := range batch {
		if _, ok := byTenant[p.tenant]; !ok {
			tenants = append(tenants, p.tenant)
		}
		byTenant[p.tenant] = append(byTenant[p.tenant], p)
	}
	// Not a request's context: one request giving up must not fail the
	// others' commit. Bounded, so that a database that stops answering
	// fails the waiting requests instead of holding them forever.
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	for _, t := range tenants {
		ps := byTenant[t]
		err := c.group(ctx, t, ps)
		if !fhir.IsKind(err, fhir.KindConflict) {
			answer(ps, err)
			continue
		}
		// The head moved, or a write lost its race: which request is to
		// blame the group cannot tell, so each goes alone on a fresh head.
		for _, p := range ps {
			err := c.group(ctx, t, []*pending{p})
			if fhir.IsKind(err, fhir.KindConflict) {
				err = c.group(ctx, t, []*pending{p})
			}
			answer([]*pending{p}, err)
		}
	}
}

// group commits the requests ps of tenant as one group on the cached head.
// On failure it forgets the head, so the next group reads it again.
func (c *Committer) group(ctx context.Context, tenant string, ps []*pending) error {
	head, ok := c.heads[tenant]
	if !ok {
		var err error
		if head, err = c.loadHead(ctx, tenant); err != nil {
			return err
		}
	}
	var ws []store.Write
	var recs []Record
	for _, p := range ps {
		ws = append(ws, p.writes...)
		recs = append(recs, p.recs...)
	}
	next, err := store.CommitGroup(ctx, c.st, tenant, ws, head, link(head, recs))
	if err != nil {
		delete(c.heads, tenant)
		return err
	}
	c.heads[tenant] = next
	return nil
}

// loadHead reads the tenant's chain head, creating it on first use.
func (c *Committer) loadHead(ctx context.Context, tenant string) (store.AuditHead, error) {
	var head store.AuditHead
	err := c.st.Tx(ctx, tenant, func(tx store.Tx) error {
		atx, ok := tx.(store.AuditTx)
		if !ok {
			return errNoAudit(tx)
		}
		var err error
		head, err = atx.AuditHead(ctx, Genesis)
		return err
	})
	return head, err
}

func answer(ps []*pending, err error) {
	for _, p := range ps {
		p.done <- err
	}
}

// drain fails the requests still queued at Close.
func (c *Committer) drain() {
	for {
		select {
		case p := <-c.reqs:
			p.done <- ErrClosed
		default:
			return
		}
	}
}
