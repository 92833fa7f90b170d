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
// group has committed. While groups commit the next one gathers, so under
// load many requests share one commit, and a request still returns only
// after its AuditEvent is on disk. A request that finds nothing
// committing and nothing queued commits as a group of its own on its own
// goroutine (lead), without the hand-offs to the committer's goroutines
// and back: at one client those wake-ups cost more than the commit's
// statements (docs/benchmarks-history.md, eighth session).
//
// The committer keeps each tenant's chain head in memory, so a group needs
// no read of it, and it lets up to depth groups commit at once, each on the
// head the one before it will leave. The next group is sent once the one
// before holds the chain head row (store.GroupWriter's held). On
// PostgreSQL that is known only with the commit (see
// postgres.DB.CommitGroup), so there the next group goes as soon as the
// one before has committed, before its requests are answered and its
// outcome settled; on the embedded store, whose transactions take turns,
// it goes at once and waits for the write lock. Groups are guarded by the
// head (sequence and hash) they continue: when the group before failed, or
// something else appended meanwhile (a transaction Bundle, another server
// on the same database), the group fails whole; once nothing is in flight
// it is tried once more on the head as it then stands (see again), and if
// it fails again its requests are committed one by one, each in a
// transaction that locks the head (see alone).
type Committer struct {
	st      TxRunner
	reqs    chan *pending
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// idle holds a token while nothing commits: whoever takes it owns
	// heads and the right to commit until it gives it back. A request that
	// finds it commits alone on its own goroutine (lead); run takes it
	// to dispatch and keeps it while groups are in flight.
	idle    chan struct{}
	heads   map[string]store.AuditHead // owned by the token's holder: the head after every group in flight
	observe CommitObserver             // nil: nobody listens
}

// CommitObserver hears of every commit the committer makes: a group's, or
// a request's alone after its group lost a race. requests is how many
// requests it carried, took how long the store took, err its outcome (nil:
// committed). It is called from the committer's goroutines and must be
// quick (metrics.Metrics.ObserveGroup).
type CommitObserver func(requests int, took time.Duration, err error)

// timed runs commit, a commit of requests, and tells o, when there is
// one, how long it took and how it ended.
func (o CommitObserver) timed(requests int, commit func() error) error {
	start := time.Now()
	err := commit()
	if o != nil {
		o(requests, time.Since(start), err)
	}
	return err
}

// CommitterOption configures NewCommitter.
type CommitterOption func(*Committer)

// WithCommitObserver has observe hear of every commit.
func WithCommitObserver(observe CommitObserver) CommitterOption {
	return func(c *Committer) { c.observe = observe }
}

// depth is how many groups commit at once. A third could not be sent
// before the second holds the head, which is after the first has
// committed. One tenant's commits reach the disk one at a time in any
// case: the head row stays locked until a commit is durable.
const depth = 2

// flight is a batch being committed: one group per tenant, in order.
type flight struct {
	groups  []*group
	held    chan struct{} // closed once its last group holds the chain head (store.GroupWriter), or is done
	done    chan struct{} // closed when every group has its err
	applied bool          // its groups' heads are in Committer.heads (see apply); owned by run
}

type group struct {
	tenant  string
	ps      []*pending
	head    store.AuditHead // the head the group continues
	entries []store.AuditEntry
	// leaves is the head the group leaves if it commits, as the store
	// reports it (over the bodies it writes, which sealing changes); nil
	// when the store never said. Written before the flight's held closes.
	leaves *store.AuditHead
	err    error // written before the flight's done closes
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
func NewCommitter(st TxRunner, opts ...CommitterOption) *Committer {
	c := &Committer{st: st, reqs: make(chan *pending, maxBatch), stop: make(chan struct{}), stopped: make(chan struct{}),
		idle: make(chan struct{}, 1), heads: map[string]store.AuditHead{}}
	c.idle <- struct{}{}
	for _, o := range opts {
		o(c)
	}
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
	case <-c.stop:
		return ErrClosed
	case <-c.idle:
		if len(c.reqs) == 0 {
			return c.lead(p)
		}
		// Requests wait for run: p is not to overtake them.
		c.idle <- struct{}{}
	default:
	}
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

// lead commits p on the caller's goroutine while the caller holds the
// idle token, and gives it back: with nothing else committing, a request
// need not pass through run and a flight's goroutine (four wake-ups on
// the way there and back). Requests that arrive meanwhile queue for run,
// which takes the token once p has committed.
func (c *Committer) lead(p *pending) error {
	defer func() { c.idle <- struct{}{} }()
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	head, ok := c.heads[p.tenant]
	if !ok {
		var err error
		if head, err = c.loadHead(ctx, p.tenant); err != nil {
			return err
		}
	}
	var after store.AuditHead
	err := c.observe.timed(1, func() (err error) {
		after, err = store.CommitGroup(ctx, c.st, p.tenant, p.writes, head, link(head, p.recs), nil)
		return err
	})
	switch {
	case err == nil:
		c.heads[p.tenant] = after
	case fhir.IsKind(err, fhir.KindConflict):
		// The head moved, or the write lost its race: alone tells them
		// apart, as for a group.
		err = c.alone(ctx, p.tenant, p)
	default:
		delete(c.heads, p.tenant)
	}
	return err
}

func (c *Committer) run() {
	defer close(c.stopped)
	var window []*flight // committing, oldest first
	holding := false     // run has the idle token
	for {
		if len(window) == 0 && holding && len(c.reqs) == 0 {
			holding = false
			c.idle <- struct{}{}
		}
		// The next batch goes when nothing commits, or when there is room
		// and the newest flight holds its heads, so that the database
		// orders the next one behind it.
		var reqs <-chan *pending
		var held, oldest <-chan struct{}
		if n := len(window); n == 0 {
			reqs = c.reqs
		} else {
			oldest = window[0].done
			if n < depth {
				select {
				case <-window[n-1].held:
					reqs = c.reqs
				default:
					held = window[n-1].held
				}
			}
		}
		select {
		case <-held:
		case p := <-reqs:
			if !holding {
				<-c.idle // a request committing alone ends first
				holding = true
			}
			window = c.dispatch(c.gather(p), window)
		case <-oldest:
			window = c.settle(window)
		case <-c.stop:
			for len(window) > 0 {
				window = c.settle(window)
			}
			if !holding {
				<-c.idle // and no request commits alone after Close
			}
			c.drain()
			return
		}
	}
}

// gather takes the requests waiting behind first, up to maxBatch.
func (c *Committer) gather(first *pending) []*pending {
	batch := []*pending{first}
	for len(batch) < maxBatch {
		select {
		case p := <-c.reqs:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// dispatch starts committing batch, one group per tenant in order of
// arrival, each on the head the groups in flight will leave, and returns
// the window with it.
func (c *Committer) dispatch(batch []*pending, window []*flight) []*flight {
	var tenants []string
	byTenant := map[string][]*pending{}
	for _, p := range batch {
		if _, ok := byTenant[p.tenant]; !ok {
			tenants = append(tenants, p.tenant)
		}
		byTenant[p.tenant] = append(byTenant[p.tenant], p)
	}
	if n := len(window); n > 0 {
		c.apply(window[n-1]) // it holds its heads: the new groups continue them
	}
	f := &flight{held: make(chan struct{}), done: make(chan struct{})}
	for _, t := range tenants {
		ps := byTenant[t]
		head, ok := c.heads[t]
		if !ok {
			// Reading the head while groups of t are in flight would
			// read one they are about to move.
			for len(window) > 0 {
				window = c.settle(window)
			}
			head, ok = c.heads[t]
		}
		if !ok {
			ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
			var err error
			head, err = c.loadHead(ctx, t)
			cancel()
			if err != nil {
				answer(ps, err)
				continue
			}
		}
		f.groups = append(f.groups, &group{tenant: t, ps: ps, head: head, entries: link(head, recordsOf(ps))})
	}
	if len(f.groups) == 0 {
		return window
	}
	go f.commit(c.st, c.observe)
	return append(window, f)
}

// tenantsAtOnce bounds how many groups of one batch (one per tenant)
// commit at the same time: each holds a database connection, and reads
// need some too.
const tenantsAtOnce = 4

// commit commits f's groups, one per tenant, up to tenantsAtOnce at a
// time: they continue different chains, so they need not wait for each
// other, and a second tenant's group commits beside the first's instead
// of after it. f.held closes once every group holds its chain head, or is
// done.
func (f *flight) commit(st TxRunner, observe CommitObserver) {
	defer close(f.done)
	// Not a request's context: one request giving up must not fail the
	// others' commit. Bounded, so that a database that stops answering
	// fails the waiting requests instead of holding them forever.
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	var mu sync.Mutex
	holding := len(f.groups) // groups yet to hold their head
	hold := func() {
		mu.Lock()
		defer mu.Unlock()
		if holding--; holding == 0 {
			close(f.held)
		}
	}
	commitOne := func(g *group) {
		var once sync.Once
		held := func(h store.AuditHead) { once.Do(func() { g.leaves = &h; hold() }) }
		var after store.AuditHead
		g.err = observe.timed(len(g.ps), func() (err error) {
			after, err = store.CommitGroup(ctx, st, g.tenant, writesOf(g.ps), g.head, g.entries, held)
			return err
		})
		once.Do(func() { // the store never said
			if g.err == nil {
				g.leaves = &after
			}
			hold()
		})
	}
	if len(f.groups) == 1 {
		// One tenant, the common case: a goroutine of its own would cost
		// a wake-up of another thread and a park here per flight.
		commitOne(f.groups[0])
		return
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, tenantsAtOnce)
	for _, g := range f.groups {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			commitOne(g)
		})
	}
	wg.Wait()
}

// apply takes the heads f's groups leave into c.heads, once f holds them:
// the next flight is prepared on them. A group whose store never said
// leaves its tenant's head unknown.
func (c *Committer) apply(f *flight) {
	if f.applied {
		return
	}
	f.applied = true
	for _, g := range f.groups {
		if g.leaves != nil {
			c.heads[g.tenant] = *g.leaves
		} else {
			delete(c.heads, g.tenant)
		}
	}
}

// settle waits for the oldest flight and answers its requests. A group
// that failed makes the heads of its tenant unknown; one that lost a race
// (KindConflict) cannot tell which request is to blame, so once every
// flight has landed it is tried once more on a fresh head (again), and if
// that fails too each of its requests goes alone (see alone); so do the
// conflicting groups after it, in order of arrival.
func (c *Committer) settle(window []*flight) []*flight {
	retry := c.land(window[0])
	window = window[1:]
	if len(retry) == 0 {
		return window
	}
	for _, f := range window {
		retry = append(retry, c.land(f)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	for _, g := range retry {
		if c.again(ctx, g) {
			continue
		}
		for _, p := range g.ps {
			answer([]*pending{p}, c.alone(ctx, g.tenant, p))
		}
	}
	return nil
}

// again commits a group that lost a race once more, whole, on the chain
// head as it stands now, and reports whether it did. When what moved was
// the head (a transaction Bundle's append, another server's), that is one
// group commit instead of a transaction per request; when a write of the
// group lost its race, the group fails again and its requests go alone.
// Nothing of the tenant may be in flight.
func (c *Committer) again(ctx context.Context, g *group) bool {
	head, err := c.loadHead(ctx, g.tenant)
	if err != nil {
		return false
	}
	var after store.AuditHead
	err = c.observe.timed(len(g.ps), func() (err error) {
		after, err = store.CommitGroup(ctx, c.st, g.tenant, writesOf(g.ps), head, link(head, recordsOf(g.ps)), nil)
		return err
	})
	if err != nil {
		return false
	}
	c.heads[g.tenant] = after
	answer(g.ps, nil)
	return true
}

// land waits for f, answers the requests of its groups that committed or
// failed for good, and returns those that lost a race.
func (c *Committer) land(f *flight) []*group {
	<-f.done
	c.apply(f) // when no flight came after it
	var conflicts []*group
	for _, g := range f.groups {
		if g.err != nil {
			delete(c.heads, g.tenant)
		}
		if fhir.IsKind(g.err, fhir.KindConflict) {
			conflicts = append(conflicts, g)
			continue
		}
		answer(g.ps, g.err)
	}
	return conflicts
}

// alone commits one request in a transaction of its own that locks the
// chain head (Append), so only a write that lost its race can fail it.
// Nothing of its tenant may be in flight. It leaves the head unknown: the
// next group reads it.
func (c *Committer) alone(ctx context.Context, tenant string, p *pending) error {
	delete(c.heads, tenant)
	return c.observe.timed(1, func() error {
		return c.st.Tx(ctx, tenant, func(tx store.Tx) error {
			for _, w := range p.writes {
				if err := tx.Put(ctx, w); err != nil {
					return err
				}
			}
			return Append(ctx, tx, p.recs...)
		})
	})
}

// writesOf and recordsOf gather the writes and records of requests, in
// order.
func writesOf(ps []*pending) []store.Write {
	var ws []store.Write
	for _, p := range ps {
		ws = append(ws, p.writes...)
	}
	return ws
}

func recordsOf(ps []*pending) []Record {
	var recs []Record
	for _, p := range ps {
		recs = append(recs, p.recs...)
	}
	return recs
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
