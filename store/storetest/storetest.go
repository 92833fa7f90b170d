// Package storetest is the one contract suite every store.Store backend must
// pass. Backends call Run from their own tests with a function that opens a
// fresh, empty database; the suite never mocks anything.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// Run exercises s against the storage contract. open must return a new,
// empty, unmigrated store and register its Close with t.Cleanup; Run calls it
// once and migrates it, so migrating from empty is part of the suite.
// Subtests each use their own tenant and run in parallel.
func Run(t *testing.T, open func(t testing.TB) store.Store) {
	s := open(t)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate from empty: %v", err)
	}
	t.Run("CRUD", func(t *testing.T) { testCRUD(t, s) })
	t.Run("PutConflicts", func(t *testing.T) { testPutConflicts(t, s) })
	t.Run("InvalidWrites", func(t *testing.T) { testInvalidWrites(t, s) })
	t.Run("BodyRoundTrip", func(t *testing.T) { testBodyRoundTrip(t, s) })
	t.Run("History", func(t *testing.T) { testHistory(t, s) })
	t.Run("TenantIsolation", func(t *testing.T) { testTenantIsolation(t, s) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, s) })
	t.Run("ConcurrentCreates", func(t *testing.T) { testConcurrentCreates(t, s) })
	t.Run("BlockedWriterLoses", func(t *testing.T) { testBlockedWriterLoses(t, s) })
	t.Run("TxRollback", func(t *testing.T) { testTxRollback(t, s) })
	t.Run("TxVisibility", func(t *testing.T) { testTxVisibility(t, s) })
	t.Run("TxPanic", func(t *testing.T) { testTxPanic(t, s) })
	t.Run("FindTokens", func(t *testing.T) { testFindTokens(t, s) })
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatalf("search registry: %v", err)
	}
	t.Run("SearchParameters", func(t *testing.T) { testSearchParameters(t, s, reg) })
	t.Run("SearchRefused", func(t *testing.T) { testSearchRefused(t, reg) })
	t.Run("SearchPaging", func(t *testing.T) { testSearchPaging(t, s, reg) })
	t.Run("SearchIncludes", func(t *testing.T) { testSearchIncludes(t, s, reg) })
	t.Run("SearchConstraints", func(t *testing.T) { testSearchConstraints(t, s, reg) })
	t.Run("SearchInTx", func(t *testing.T) { testSearchInTx(t, s, reg) })
	t.Run("SearchLastUpdated", func(t *testing.T) { testSearchLastUpdated(t, s, reg) })
	t.Run("Tenants", func(t *testing.T) { testTenants(t, s) })
	t.Run("Clients", func(t *testing.T) { testClients(t, s) })
	t.Run("SigningKeys", func(t *testing.T) { testSigningKeys(t, s) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, s) })
	t.Run("MigrateAgain", func(t *testing.T) { testMigrateAgain(t, s) })
	t.Run("DeleteTenant", func(t *testing.T) { testDeleteTenant(t, s) })
	runUsers(t, s)
	t.Run("KeyStore", func(t *testing.T) { runKeys(t, s) })
}

// baseTime is a fixed clock reading with microsecond precision, the
// precision the contract promises to keep.
var baseTime = time.Date(2024, 3, 5, 7, 11, 13, 123456000, time.UTC)

// at returns baseTime plus n seconds.
func at(n int) time.Time { return baseTime.Add(time.Duration(n) * time.Second) }

// newTenant returns a tenant id no other test uses, so tests can share one
// database and run in parallel.
func newTenant(t testing.TB) string {
	t.Helper()
	return "t-" + randomHex(t, 8)
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// rec builds a live record; body "" makes a minimal resource body.
func rec(typ, id string, version int64, when time.Time, body string) store.Record {
	if body == "" {
		body = `{"resourceType":"` + typ + `","id":"` + id + `"}`
	}
	return store.Record{Type: typ, ID: id, Version: version, LastUpdated: when, Body: []byte(body)}
}

// marker builds a delete marker.
func marker(typ, id string, version int64, when time.Time) store.Record {
	return store.Record{Type: typ, ID: id, Version: version, LastUpdated: when, Deleted: true}
}

// put writes one version in its own transaction.
func put(ctx context.Context, s store.Store, tenant string, w store.Write) error {
	return s.Tx(ctx, tenant, func(tx store.Tx) error { return tx.Put(ctx, w) })
}

// mustPut writes one version and fails the test on error.
func mustPut(t testing.TB, s store.Store, tenant string, w store.Write) {
	t.Helper()
	if err := put(context.Background(), s, tenant, w); err != nil {
		t.Fatalf("Put %s/%s v%d: %v", w.Record.Type, w.Record.ID, w.Record.Version, err)
	}
}

// checkRecord compares every field of a record, the body byte for byte.
func checkRecord(t testing.TB, what string, got, want store.Record) {
	t.Helper()
	if got.Type != want.Type || got.ID != want.ID || got.Version != want.Version || got.Deleted != want.Deleted {
		t.Errorf("%s = %s/%s v%d deleted=%v, want %s/%s v%d deleted=%v", what,
			got.Type, got.ID, got.Version, got.Deleted, want.Type, want.ID, want.Version, want.Deleted)
	}
	if !got.LastUpdated.Equal(want.LastUpdated) || got.LastUpdated.Location() != time.UTC {
		t.Errorf("%s: LastUpdated = %v, want %v in UTC", what, got.LastUpdated, want.LastUpdated)
	}
	if want.Deleted && got.Body != nil {
		t.Errorf("%s: delete marker has a body of %d bytes", what, len(got.Body))
	}
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("%s: body differs: got %d bytes %.60q, want %d bytes %.60q", what,
			len(got.Body), got.Body, len(want.Body), want.Body)
	}
}

// checkKind fails unless err is a *fhir.Error of the given kind.
func checkKind(t testing.TB, what string, err error, want fhir.Kind) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, want)
		return
	}
	if got := fhir.KindOf(err); got != want {
		t.Errorf("%s: error kind %v (%v), want %v", what, got, err, want)
	}
}

// read reads the current version outside any transaction.
func read(t testing.TB, s store.Store, tenant, typ, id string) (store.Record, error) {
	t.Helper()
	return s.Read(context.Background(), tenant, typ, id)
}

// findTokens runs q in a read-only transaction.
func findTokens(t testing.TB, s store.Store, tenant string, q store.TokenQuery) []string {
	t.Helper()
	var ids []string
	err := s.Tx(context.Background(), tenant, func(tx store.Tx) error {
		var err error
		ids, err = tx.FindTokens(context.Background(), q)
		return err
	})
	if err != nil {
		t.Fatalf("FindTokens %+v: %v", q, err)
	}
	return ids
}

// allHistory pages through q until Next is 0 and returns every record and
// the size of each page.
func allHistory(t testing.TB, s store.Store, tenant string, q store.HistoryQuery) ([]store.Record, []int) {
	t.Helper()
	var recs []store.Record
	var pages []int
	for range 1000 {
		page, err := s.History(context.Background(), tenant, q)
		if err != nil {
			t.Fatalf("History %+v: %v", q, err)
		}
		recs = append(recs, page.Records...)
		pages = append(pages, len(page.Records))
		if page.Next == 0 {
			return recs, pages
		}
		if q.Before != 0 && page.Next >= q.Before {
			t.Fatalf("History cursor went backwards: Next %d after Before %d", page.Next, q.Before)
		}
		q.Before = page.Next
	}
	t.Fatal("History never ended")
	return nil, nil
}

// asError is errors.As for a *fhir.Error.
func asError(err error, target **fhir.Error) bool { return errors.As(err, target) }
