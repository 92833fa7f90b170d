package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// rounds is how often each race is run; one round proves little.
const rounds = 20

// race runs the two writes at the same moment, each in its own transaction,
// and returns their errors.
func race(s store.Store, tenant string, w1, w2 store.Write) [2]error {
	ctx := context.Background()
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, w := range []store.Write{w1, w2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = put(ctx, s, tenant, w)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// checkOneWins fails unless exactly one write succeeded and the other got
// KindConflict; it returns the index of the winner.
func checkOneWins(t testing.TB, errs [2]error) int {
	t.Helper()
	switch {
	case errs[0] == nil && errs[1] != nil:
		checkKind(t, "loser", errs[1], fhir.KindConflict)
		return 0
	case errs[1] == nil && errs[0] != nil:
		checkKind(t, "loser", errs[0], fhir.KindConflict)
		return 1
	default:
		t.Fatalf("want exactly one winner, got errors %v and %v", errs[0], errs[1])
		return -1
	}
}

// testConcurrentUpdates races two updates based on the same version.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	t.Parallel()
	tenant := newTenant(t)
	for i := range rounds {
		id := fmt.Sprintf("u%d", i)
		mustPut(t, s, tenant, store.Write{Record: rec("Patient", id, 1, at(0), "")})
		ws := [2]store.Write{
			{Record: rec("Patient", id, 2, at(1), `{"writer":0}`), PrevVersion: 1,
				Tokens: []store.Token{{Param: "name", Code: "zero"}}},
			{Record: rec("Patient", id, 2, at(2), `{"writer":1}`), PrevVersion: 1,
				Tokens: []store.Token{{Param: "name", Code: "one"}}},
		}
		winner := checkOneWins(t, race(s, tenant, ws[0], ws[1]))
		got, err := read(t, s, tenant, "Patient", id)
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, "winner's version", got, ws[winner].Record)
		recs, _ := allHistory(t, s, tenant, store.HistoryQuery{Type: "Patient", ID: id})
		if len(recs) != 2 {
			t.Fatalf("round %d: %d versions in history, want 2", i, len(recs))
		}
		checkRecord(t, "history", recs[0], ws[winner].Record)
		loser := ws[1-winner].Tokens[0].Code
		if ids := findTokens(t, s, tenant, store.TokenQuery{Type: "Patient", Param: "name", AnySystem: true, Code: loser}); slices.Contains(ids, id) {
			t.Errorf("round %d: the losing write's token was indexed", i)
		}
	}
}

// testConcurrentCreates races two creates of the same id.
func testConcurrentCreates(t *testing.T, s store.Store) {
	t.Parallel()
	tenant := newTenant(t)
	for i := range rounds {
		id := fmt.Sprintf("c%d", i)
		ws := [2]store.Write{
			{Record: rec("Patient", id, 1, at(1), `{"writer":0}`)},
			{Record: rec("Patient", id, 1, at(2), `{"writer":1}`)},
		}
		winner := checkOneWins(t, race(s, tenant, ws[0], ws[1]))
		got, err := read(t, s, tenant, "Patient", id)
		if err != nil {
			t.Fatal(err)
		}
		checkRecord(t, "winner's version", got, ws[winner].Record)
		if recs, _ := allHistory(t, s, tenant, store.HistoryQuery{Type: "Patient", ID: id}); len(recs) != 1 {
			t.Fatalf("round %d: %d versions in history, want 1", i, len(recs))
		}
	}
}
