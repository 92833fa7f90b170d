package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// testAudit exercises the optional audit capabilities (store.AuditLog on
// the store, store.AuditTx on its transactions).
func testAudit(t *testing.T, s store.Store) {
	log, ok := s.(store.AuditLog)
	if !ok {
		t.Skip("store has no audit log")
	}
	t.Run("AppendAndRead", func(t *testing.T) { testAuditAppend(t, s, log) })
	t.Run("Rollback", func(t *testing.T) { testAuditRollback(t, s, log) })
	t.Run("StaleHead", func(t *testing.T) { testAuditStaleHead(t, s) })
	t.Run("Concurrent", func(t *testing.T) { testAuditConcurrent(t, s, log) })
	t.Run("Purge", func(t *testing.T) { testAuditPurge(t, s, log) })
	t.Run("Index", func(t *testing.T) { testAuditIndex(t, s, log) })
	t.Run("Search", func(t *testing.T) { testAuditSearch(t, s, log) })
	t.Run("SearchPaging", func(t *testing.T) { testAuditSearchPaging(t, s, log) })
	t.Run("Defaults", func(t *testing.T) { testAuditDefaults(t, s, log) })
	t.Run("Group", func(t *testing.T) { testGroup(t, s, log) })
	t.Run("GroupHeld", func(t *testing.T) { testGroupHeld(t, s, log) })
}

var genesis = make([]byte, sha256.Size)

func chainHash(prev, body []byte) []byte {
	h := sha256.Sum256(append(append([]byte{}, prev...), body...))
	return h[:]
}

// appendAudit appends one entry per id in one transaction, as package
// audit does, and returns the entries written.
func appendAudit(ctx context.Context, s store.Store, tenant string, when time.Time, ids ...string) ([]store.AuditEntry, error) {
	es := make([]store.AuditEntry, len(ids))
	for i, id := range ids {
		es[i] = store.AuditEntry{ID: id, Recorded: when}
	}
	return appendEntries(ctx, s, tenant, es)
}

// appendEntries links entries, of which ID and Recorded are set, to the
// tenant's chain and appends them in one transaction.
func appendEntries(ctx context.Context, s store.Store, tenant string, es []store.AuditEntry) ([]store.AuditEntry, error) {
	var out []store.AuditEntry
	err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		atx, ok := tx.(store.AuditTx)
		if !ok {
			return errors.New("transaction has no audit capability")
		}
		head, err := atx.AuditHead(ctx, genesis)
		if err != nil {
			return err
		}
		prev, seq := head.Hash, head.Seq
		out = nil
		for _, e := range es {
			seq++
			e.Seq, e.PrevHash = seq, prev
			e.Body = []byte(`{"resourceType":"AuditEvent","id":"` + e.ID + `"}`)
			e.Hash = chainHash(prev, e.Body)
			out = append(out, e)
			prev = e.Hash
		}
		return atx.PutAudit(ctx, head, out)
	})
	return out, err
}

func checkEntry(t testing.TB, what string, got, want store.AuditEntry) {
	t.Helper()
	if got.Seq != want.Seq || got.ID != want.ID || !got.Recorded.Equal(want.Recorded) ||
		!bytes.Equal(got.PrevHash, want.PrevHash) || !bytes.Equal(got.Hash, want.Hash) || !bytes.Equal(got.Body, want.Body) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func testAuditAppend(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	_, err := log.AuditChain(ctx, tenant)
	checkKind(t, "AuditChain of a new tenant", err, fhir.KindNotFound)
	first, err := appendAudit(ctx, s, tenant, at(0), "a1", "a2")
	if err != nil {
		t.Fatal(err)
	}
	second, err := appendAudit(ctx, s, tenant, at(1), "a3")
	if err != nil {
		t.Fatal(err)
	}
	all := append(first, second...)
	if all[0].Seq != 1 || !bytes.Equal(all[0].PrevHash, genesis) || all[2].Seq != 3 {
		t.Fatalf("chain starts %+v", all)
	}
	got, err := log.ScanAudit(ctx, tenant, store.AuditQuery{})
	if err != nil || len(got) != 3 {
		t.Fatalf("ScanAudit = %d entries, %v", len(got), err)
	}
	for i := range got {
		checkEntry(t, fmt.Sprintf("entry %d", i), got[i], all[i])
	}
	if got, _ := log.ScanAudit(ctx, tenant, store.AuditQuery{After: 1, Limit: 1}); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("ScanAudit after 1 limit 1 = %+v", got)
	}
	if got, _ := log.ScanAudit(ctx, tenant, store.AuditQuery{From: at(1)}); len(got) != 1 || got[0].ID != "a3" {
		t.Errorf("ScanAudit from at(1) = %+v", got)
	}
	if got, _ := log.ScanAudit(ctx, tenant, store.AuditQuery{To: at(1)}); len(got) != 2 {
		t.Errorf("ScanAudit to at(1) = %d entries", len(got))
	}
	e, err := log.ReadAudit(ctx, tenant, "a2")
	if err != nil {
		t.Fatal(err)
	}
	checkEntry(t, "ReadAudit a2", e, all[1])
	_, err = log.ReadAudit(ctx, tenant, "nope")
	checkKind(t, "ReadAudit of a missing id", err, fhir.KindNotFound)
	head, err := log.AuditChain(ctx, tenant)
	if err != nil || head.Seq != 3 || !bytes.Equal(head.Hash, all[2].Hash) || head.AnchorSeq != 0 || !bytes.Equal(head.AnchorHash, genesis) {
		t.Errorf("AuditChain = %+v, %v", head, err)
	}
	// Other tenants see nothing and start their own chain.
	other := newTenant(t)
	if got, _ := log.ScanAudit(ctx, other, store.AuditQuery{}); len(got) != 0 {
		t.Errorf("another tenant scans %d entries", len(got))
	}
	_, err = log.ReadAudit(ctx, other, "a1")
	checkKind(t, "ReadAudit across tenants", err, fhir.KindNotFound)
	if es, err := appendAudit(ctx, s, other, at(0), "a1"); err != nil || es[0].Seq != 1 {
		t.Errorf("other tenant's first append = %+v, %v", es, err)
	}
	tenants, err := log.AuditTenants(ctx)
	if err != nil || !contains(tenants, tenant) || !contains(tenants, other) {
		t.Errorf("AuditTenants = %v, %v", tenants, err)
	}
	// A duplicate id is a conflict and writes nothing.
	_, err = appendAudit(ctx, s, tenant, at(2), "a1")
	checkKind(t, "duplicate AuditEvent id", err, fhir.KindConflict)
	if head, _ := log.AuditChain(ctx, tenant); head.Seq != 3 {
		t.Errorf("head moved to %d after a failed append", head.Seq)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func testAuditRollback(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	if _, err := appendAudit(ctx, s, tenant, at(0), "keep"); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		if err := tx.Put(ctx, store.Write{Record: rec("Patient", "p", 1, at(1), "")}); err != nil {
			return err
		}
		atx := tx.(store.AuditTx)
		head, err := atx.AuditHead(ctx, genesis)
		if err != nil {
			return err
		}
		body := []byte(`{"resourceType":"AuditEvent","id":"lost"}`)
		if err := atx.PutAudit(ctx, head, []store.AuditEntry{{Seq: head.Seq + 1, ID: "lost", Recorded: at(1),
			PrevHash: head.Hash, Hash: chainHash(head.Hash, body), Body: body}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if got, _ := log.ScanAudit(ctx, tenant, store.AuditQuery{}); len(got) != 1 {
		t.Errorf("rolled-back append left %d entries", len(got))
	}
	if head, _ := log.AuditChain(ctx, tenant); head.Seq != 1 {
		t.Errorf("rolled-back append moved the head to %d", head.Seq)
	}
	_, err = read(t, s, tenant, "Patient", "p")
	checkKind(t, "write rolled back with its audit", err, fhir.KindNotFound)
}

func testAuditStaleHead(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		atx := tx.(store.AuditTx)
		head, err := atx.AuditHead(ctx, genesis)
		if err != nil {
			return err
		}
		body := []byte(`{"resourceType":"AuditEvent","id":"x"}`)
		// Does not link to the head.
		return atx.PutAudit(ctx, head, []store.AuditEntry{{Seq: head.Seq + 2, ID: "x", Recorded: at(0),
			PrevHash: head.Hash, Hash: chainHash(head.Hash, body), Body: body}})
	})
	checkKind(t, "PutAudit with a gap", err, fhir.KindConflict)
}

// Appends from many goroutines at once all succeed and leave one chain
// without gaps or forks: the head lock serialises them.
func testAuditConcurrent(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := appendAudit(ctx, s, tenant, at(i), fmt.Sprintf("w%d-%d", w, i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent append: %v", err)
	}
	got, err := log.ScanAudit(ctx, tenant, store.AuditQuery{})
	if err != nil || len(got) != workers*each {
		t.Fatalf("ScanAudit = %d entries, %v; want %d", len(got), err, workers*each)
	}
	prev := genesis
	for i, e := range got {
		if e.Seq != int64(i+1) || !bytes.Equal(e.PrevHash, prev) || !bytes.Equal(e.Hash, chainHash(prev, e.Body)) {
			t.Fatalf("entry %d breaks the chain: %+v", i, e)
		}
		prev = e.Hash
	}
}

func testAuditPurge(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	var all []store.AuditEntry
	for i := range 5 {
		es, err := appendAudit(ctx, s, tenant, at(i*10), fmt.Sprintf("p%d", i))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, es...)
	}
	if n, err := log.PurgeAudit(ctx, tenant, at(0)); err != nil || n != 0 {
		t.Errorf("PurgeAudit before the first = %d, %v", n, err)
	}
	n, err := log.PurgeAudit(ctx, tenant, at(25)) // removes p0, p1, p2
	if err != nil || n != 3 {
		t.Fatalf("PurgeAudit = %d, %v; want 3", n, err)
	}
	head, err := log.AuditChain(ctx, tenant)
	if err != nil || head.AnchorSeq != 3 || !bytes.Equal(head.AnchorHash, all[2].Hash) || head.Seq != 5 {
		t.Errorf("head after purge = %+v, %v", head, err)
	}
	got, _ := log.ScanAudit(ctx, tenant, store.AuditQuery{})
	if len(got) != 2 || got[0].Seq != 4 || !bytes.Equal(got[0].PrevHash, head.AnchorHash) {
		t.Errorf("after purge: %+v", got)
	}
	// Appending goes on from the head.
	if es, err := appendAudit(ctx, s, tenant, at(60), "p5"); err != nil || es[0].Seq != 6 {
		t.Errorf("append after purge = %+v, %v", es, err)
	}
}
