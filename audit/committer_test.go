package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Requests whose writes lose their races, committed among many others so
// that groups are in flight behind the ones that fail, are refused alone;
// every other request commits, and the chain verifies with exactly the
// committed events.
func TestCommitterRacesInFlight(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		c := audit.NewCommitter(st)
		defer c.Close()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		if err := c.CommitWrites(ctx, "t1", []store.Write{{Record: contested(1)}}, record(t, l, 0)); err != nil {
			t.Fatal(err)
		}
		const n = 240
		recs := records(t, l, 1, n)
		// Every fourth request updates the contested resource from
		// version 1: one of them wins, whatever the grouping.
		updates := func(i int) bool { return i%4 == 0 }
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if updates(i) {
					errs[i] = c.CommitWrites(ctx, "t1", []store.Write{{Record: contested(2), PrevVersion: 1}}, recs[i])
				} else {
					errs[i] = c.Commit(ctx, "t1", recs[i])
				}
			})
		}
		wg.Wait()
		committed, won := int64(1), 0
		for i, err := range errs {
			switch {
			case err == nil:
				committed++
				if updates(i) {
					won++
				}
			case !updates(i) || !fhir.IsKind(err, fhir.KindConflict):
				t.Errorf("request %d: %v", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d updates from version 1 committed, want 1", won)
		}
		rep, err := audit.Verify(ctx, st.(store.AuditLog), "t1")
		if err != nil || rep.Break != nil || rep.Checked != committed {
			t.Errorf("Verify = %+v, %v; want %d entries", rep, err, committed)
		}
	})
}

// Appends that do not go through the committer (a transaction Bundle,
// another server) move the head under the groups in flight: those fail on
// their guard, and their requests commit alone on the locked head.
func TestCommitterAppendsBeside(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		c := audit.NewCommitter(st)
		defer c.Close()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		const n, beside = 200, 20
		recs := records(t, l, 0, n+beside)
		errs := make([]error, n+beside)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = c.Commit(ctx, "t1", recs[i]) })
		}
		wg.Go(func() {
			for i := n; i < n+beside; i++ {
				errs[i] = st.Tx(ctx, "t1", func(tx store.Tx) error { return audit.Append(ctx, tx, recs[i]) })
			}
		})
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
		}
		rep, err := audit.Verify(ctx, st.(store.AuditLog), "t1")
		if err != nil || rep.Break != nil || rep.Checked != int64(n+beside) {
			t.Errorf("Verify = %+v, %v; want %d entries", rep, err, n+beside)
		}
	})
}

// contested is version v of the resource TestCommitterRacesInFlight's
// updates race for.
func contested(v int64) store.Record {
	return store.Record{Type: "Patient", ID: "contested", Version: v, LastUpdated: time.Now().UTC().Truncate(time.Microsecond),
		Body: []byte(`{"resourceType":"Patient","id":"contested"}`)}
}

// A store that writes other entries than it is given (the engine's seals
// their bodies, so their hashes change) reports the head it leaves, and
// the committer prepares the next group on that: no group fails.
func TestCommitterFollowsTheStoresHead(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		rs := &rewritingStore{Store: st}
		c := audit.NewCommitter(rs)
		defer c.Close()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		const n = 200
		recs := records(t, l, 0, n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = c.Commit(ctx, "t1", recs[i]) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
		}
		if f := rs.failed.Load(); f > 0 {
			t.Errorf("%d of %d groups failed", f, rs.groups.Load())
		}
		rep, err := audit.Verify(ctx, st.(store.AuditLog), "t1")
		if err != nil || rep.Break != nil || rep.Checked != n {
			t.Errorf("Verify = %+v, %v; want %d entries", rep, err, n)
		}
	})
}

// rewritingStore is a store.GroupWriter that, like the engine's sealing
// store, writes each group's entries with other bodies, chained anew from
// the same head, and counts the groups that failed.
type rewritingStore struct {
	store.Store
	groups, failed atomic.Int64
}

func (s *rewritingStore) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	out := make([]store.AuditEntry, len(entries))
	prev := head.Hash
	for i, e := range entries {
		e.Body = append(e.Body[:len(e.Body)-1:len(e.Body)-1], `,"language":"en"}`...)
		e.PrevHash, e.Hash = prev, audit.Hash(prev, e.Body)
		out[i], prev = e, e.Hash
	}
	s.groups.Add(1)
	after, err := store.CommitGroup(ctx, s.Store, tenant, ws, head, out, held)
	if err != nil {
		s.failed.Add(1)
	}
	return after, err
}

// onEachStore runs test on a migrated store of each backend.
func onEachStore(t *testing.T, test func(t *testing.T, st store.Store)) {
	for name, open := range indexStores(t) {
		t.Run(name, func(t *testing.T) {
			st, _ := open(t)
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			test(t, st)
		})
	}
}

// records makes n records numbered from first (see record).
func records(t testing.TB, l *audit.Log, first, n int) []audit.Record {
	t.Helper()
	recs := make([]audit.Record, n)
	for i := range recs {
		recs[i] = record(t, l, first+i)
	}
	return recs
}

// A group whose chain head moved under it (an append beside the
// committer) is committed again, whole, on the fresh head: one group
// commit, not one transaction per request.
func TestCommitterRetriesTheGroup(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		const queued = 5
		recs := records(t, l, 0, queued+2)
		gs := &gatedStore{firstGated: newFirstGated(st), beside: recs[queued+1]}
		var mu sync.Mutex
		var commits []observed
		c := audit.NewCommitter(gs, audit.WithCommitObserver(func(n int, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			commits = append(commits, observed{n, err})
		}))
		defer c.Close()
		// The first request's group waits at the gate; the others queue
		// behind it and go as the second group, under which the head moves.
		commitBehindGate(t, c, gs.entered, gs.gate, slices.Repeat([]string{"t1"}, queued+1), recs)
		rep, err := audit.Verify(ctx, st.(store.AuditLog), "t1")
		if err != nil || rep.Break != nil || rep.Checked != queued+2 {
			t.Errorf("Verify = %+v, %v; want %d entries", rep, err, queued+2)
		}
		mu.Lock()
		defer mu.Unlock()
		want := []observed{{1, nil}, {queued, errConflict}, {queued, nil}}
		if len(commits) != len(want) {
			t.Fatalf("commits %v, want %v", commits, want)
		}
		for i, o := range commits {
			if o.requests != want[i].requests || fhir.IsKind(o.err, fhir.KindConflict) != (want[i].err != nil) {
				t.Fatalf("commits %v, want %v", commits, want)
			}
		}
	})
}

// errConflict stands for any KindConflict in TestCommitterRetriesTheGroup's
// expectations.
var errConflict = fhir.Errorf(fhir.KindConflict, "conflict")

// observed is one commit as a CommitObserver hears of it.
type observed struct {
	requests int
	err      error
}

// gatedStore holds its first group at a gate until the test opens it, and
// appends an entry of its own, beside the committer, before its second.
type gatedStore struct {
	*firstGated
	beside audit.Record
}

func (s *gatedStore) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	if !s.hold() && s.calls.Load() == 2 {
		if err := s.Tx(ctx, tenant, func(tx store.Tx) error { return audit.Append(ctx, tx, s.beside) }); err != nil {
			return store.AuditHead{}, err
		}
	}
	return store.CommitGroup(ctx, s.Store, tenant, ws, head, entries, held)
}

// A request that finds nothing committing commits on its own; when the
// chain head moved beside the committer since its last group, that commit
// fails on its guard and the request commits alone on the locked head.
func TestCommitterLoneRequestAfterTheHeadMoved(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		recs := records(t, l, 0, 3)
		var commits []observed // one request at a time: no lock needed
		c := audit.NewCommitter(st, audit.WithCommitObserver(func(n int, _ time.Duration, err error) {
			commits = append(commits, observed{n, err})
		}))
		defer c.Close()
		if err := c.Commit(ctx, "t1", recs[0]); err != nil {
			t.Fatal(err)
		}
		if err := st.Tx(ctx, "t1", func(tx store.Tx) error { return audit.Append(ctx, tx, recs[1]) }); err != nil {
			t.Fatal(err)
		}
		if err := c.Commit(ctx, "t1", recs[2]); err != nil {
			t.Fatal(err)
		}
		rep, err := audit.Verify(ctx, st.(store.AuditLog), "t1")
		if err != nil || rep.Break != nil || rep.Checked != 3 {
			t.Errorf("Verify = %+v, %v; want 3 entries", rep, err)
		}
		if len(commits) != 3 || commits[0].err != nil || !fhir.IsKind(commits[1].err, fhir.KindConflict) || commits[2].err != nil {
			t.Errorf("commits %v, want one, one conflict, one", commits)
		}
	})
}

// Close waits for a request that is committing on its own, and no request
// commits after it.
func TestCommitterCloseWaitsForALoneCommit(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		recs := records(t, l, 0, 2)
		gs := newFirstGated(st)
		c := audit.NewCommitter(gs)
		committed := make(chan error, 1)
		go func() { committed <- c.Commit(ctx, "t1", recs[0]) }()
		<-gs.entered
		closed := make(chan struct{})
		go func() { c.Close(); close(closed) }()
		select {
		case <-closed:
			t.Fatal("Close returned while a commit was at the gate")
		case <-time.After(100 * time.Millisecond):
		}
		close(gs.gate)
		<-closed
		if err := <-committed; err != nil {
			t.Errorf("the lone commit: %v", err)
		}
		if err := c.Commit(ctx, "t1", recs[1]); err != audit.ErrClosed {
			t.Errorf("Commit after Close = %v, want ErrClosed", err)
		}
		rep, err := audit.Verify(ctx, st.(store.AuditLog), "t1")
		if err != nil || rep.Break != nil || rep.Checked != 1 {
			t.Errorf("Verify = %+v, %v; want 1 entry", rep, err)
		}
	})
}

// The groups of two tenants sent together commit beside each other, not
// one after the other: each continues its own chain.
func TestCommitterTenantsCommitTogether(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		recs := records(t, l, 0, 3)
		ms := &meetingStore{firstGated: newFirstGated(st), began: map[string]bool{}, met: make(chan struct{})}
		c := audit.NewCommitter(ms)
		defer c.Close()
		// One request of each tenant queues behind the first, and the two
		// go as one batch.
		commitBehindGate(t, c, ms.entered, ms.gate, []string{"t1", "t1", "t2"}, recs)
		if n := ms.apart.Load(); n > 0 {
			t.Errorf("%d groups began while the other tenant's had not", n)
		}
		for tenant, want := range map[string]int64{"t1": 2, "t2": 1} {
			rep, err := audit.Verify(ctx, st.(store.AuditLog), tenant)
			if err != nil || rep.Break != nil || rep.Checked != want {
				t.Errorf("Verify(%s) = %+v, %v; want %d entries", tenant, rep, err, want)
			}
		}
	})
}

// meetingStore holds its first group at a gate until the test opens it;
// every later group waits, a bounded time, for the groups of both tenants
// to have begun, and counts the groups that waited in vain.
type meetingStore struct {
	*firstGated
	mu    sync.Mutex
	began map[string]bool
	met   chan struct{} // closed once t1's and t2's groups have begun
	meet  sync.Once
	apart atomic.Int64
}

func (s *meetingStore) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	if !s.hold() {
		s.mu.Lock()
		s.began[tenant] = true
		if s.began["t1"] && s.began["t2"] {
			s.meet.Do(func() { close(s.met) })
		}
		s.mu.Unlock()
		select {
		case <-s.met:
		case <-time.After(2 * time.Second):
			s.apart.Add(1)
		}
	}
	return store.CommitGroup(ctx, s.Store, tenant, ws, head, entries, held)
}

// A batch of more tenants than commit at once commits every one of them,
// each on its own chain, several at a time but never more than four.
func TestCommitterManyTenants(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		ctx := context.Background()
		l := audit.NewLog(audit.ServerRef{Name: "hearth"})
		const tenants, each = 11, 3
		recs := records(t, l, 0, 1+tenants*each)
		cs := &countingStore{firstGated: newFirstGated(st)}
		c := audit.NewCommitter(cs)
		defer c.Close()
		// Every other request queues behind the first: one batch of
		// every tenant.
		ts := []string{"t0"}
		for i := 1; i < len(recs); i++ {
			ts = append(ts, fmt.Sprintf("m%d", i%tenants))
		}
		commitBehindGate(t, c, cs.entered, cs.gate, ts, recs)
		for i := range tenants {
			tenant := fmt.Sprintf("m%d", i)
			rep, err := audit.Verify(ctx, st.(store.AuditLog), tenant)
			if err != nil || rep.Break != nil || rep.Checked != each {
				t.Errorf("Verify(%s) = %+v, %v; want %d entries", tenant, rep, err, each)
			}
		}
		if most := cs.most.Load(); most < 2 || most > 4 {
			t.Errorf("at most %d groups committed at once, want 2 to 4", most)
		}
	})
}

// countingStore holds its first group at a gate, then keeps every group a
// moment before it commits and records how many were there at once.
type countingStore struct {
	*firstGated
	now, most atomic.Int64
}

func (s *countingStore) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	if !s.hold() {
		n := s.now.Add(1)
		for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		s.now.Add(-1)
	}
	return store.CommitGroup(ctx, s.Store, tenant, ws, head, entries, held)
}

// firstGated holds its first group at a gate until the test opens it.
type firstGated struct {
	store.Store
	entered, gate chan struct{}
	calls         atomic.Int64
}

func newFirstGated(st store.Store) *firstGated {
	return &firstGated{Store: st, entered: make(chan struct{}), gate: make(chan struct{})}
}

// hold waits at the gate on the first call and reports whether it did.
func (s *firstGated) hold() bool {
	if s.calls.Add(1) != 1 {
		return false
	}
	close(s.entered)
	<-s.gate
	return true
}

func (s *firstGated) CommitGroup(ctx context.Context, tenant string, ws []store.Write, head store.AuditHead, entries []store.AuditEntry, held func(store.AuditHead)) (store.AuditHead, error) {
	s.hold()
	return store.CommitGroup(ctx, s.Store, tenant, ws, head, entries, held)
}

// commitBehindGate commits recs[i] to tenants[i]: the first request's
// group waits at the store's gate (entered once it is there), the others
// queue behind it meanwhile, then the gate opens. Every request must
// commit.
func commitBehindGate(t *testing.T, c *audit.Committer, entered, gate chan struct{}, tenants []string, recs []audit.Record) {
	t.Helper()
	ctx := context.Background()
	errs := make([]error, len(tenants))
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = c.Commit(ctx, tenants[0], recs[0]) })
	<-entered
	for i := 1; i < len(tenants); i++ {
		wg.Go(func() { errs[i] = c.Commit(ctx, tenants[i], recs[i]) })
	}
	time.Sleep(200 * time.Millisecond) // for all of them to queue
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
}
