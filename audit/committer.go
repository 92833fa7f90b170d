package audit

import (
	"context"
	"sync"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// TxRunner runs a function in one database transaction for a tenant.
type TxRunner interface {
	Tx(ctx context.Context, tenant string, fn func(store.Tx) error) error
}

// maxBatch bounds how many requests one group commit serves.
const maxBatch = 512

// Committer appends the AuditEvents of reads and searches by group commit:
// one goroutine takes every request waiting, appends their events in one
// transaction per tenant, and answers each request when its transaction
// has committed. While one batch commits the next one gathers, so under
// load many reads share one durable commit, and a read still returns only
// after its AuditEvent is on disk.
type Committer struct {
	st      TxRunner
	reqs    chan *pending
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

type pending struct {
	tenant string
	recs   []Record
	done   chan error
}

// ErrClosed is returned by Commit after Close.
var ErrClosed = &fhir.Error{Kind: fhir.KindUnavailable, Op: "audit.Commit", Message: "the server is shutting down"}

// NewCommitter starts a committer over st; Close stops it.
func NewCommitter(st TxRunner) *Committer {
	c := &Committer{st: st, reqs: make(chan *pending, maxBatch), stop: make(chan struct{}), stopped: make(chan struct{})}
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
	p := &pending{tenant: tenant, recs: recs, done: make(chan error, 1)}
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

// commit appends a batch, one transaction per tenant in order of arrival.
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
	// others' commit.
	ctx := context.Background()
	for _, t := range tenants {
		ps := byTenant[t]
		var recs []Record
		for _, p := range ps {
			recs = append(recs, p.recs...)
		}
		err := c.st.Tx(ctx, t, func(tx store.Tx) error { return Append(ctx, tx, recs...) })
		for _, p := range ps {
			p.done <- err
		}
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
