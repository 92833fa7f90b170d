package storetest

import (
	"context"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// testTenantIsolation checks that nothing one tenant wrote is visible to
// another, and that the same type and id may exist in both.
func testTenantIsolation(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	a, b := newTenant(t), newTenant(t)
	tok := store.Token{Param: "identifier", System: "urn:mrn", Code: "42"}
	mustPut(t, s, a, store.Write{Record: rec("Patient", "x", 1, at(0), `{"owner":"a"}`), Tokens: []store.Token{tok}})
	mustPut(t, s, a, store.Write{Record: rec("Patient", "x", 2, at(1), `{"owner":"a"}`), PrevVersion: 1, Tokens: []store.Token{tok}})

	_, err := s.Read(ctx, b, "Patient", "x")
	checkKind(t, "B reads A's resource", err, fhir.KindNotFound)
	_, err = s.ReadVersion(ctx, b, "Patient", "x", 1)
	checkKind(t, "B reads A's version", err, fhir.KindNotFound)
	err = s.Tx(ctx, b, func(tx store.Tx) error {
		_, err := tx.Read(ctx, "Patient", "x")
		checkKind(t, "B reads A's resource in Tx", err, fhir.KindNotFound)
		_, err = tx.ReadVersion(ctx, "Patient", "x", 2)
		checkKind(t, "B reads A's version in Tx", err, fhir.KindNotFound)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.HistoryQuery{{}, {Type: "Patient"}, {Type: "Patient", ID: "x"}} {
		if recs, _ := allHistory(t, s, b, q); len(recs) != 0 {
			t.Errorf("B sees %d of A's versions in history %+v", len(recs), q)
		}
	}
	for _, q := range []store.TokenQuery{
		{Type: "Patient", Param: "identifier", System: "urn:mrn", Code: "42"},
		{Type: "Patient", Param: "identifier", AnySystem: true, Code: "42"},
	} {
		if ids := findTokens(t, s, b, q); len(ids) != 0 {
			t.Errorf("B finds A's resources: %v", ids)
		}
	}

	// B may use the same id without touching A's resource.
	mustPut(t, s, b, store.Write{Record: rec("Patient", "x", 1, at(5), `{"owner":"b"}`)})
	got, err := s.Read(ctx, a, "Patient", "x")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "A's resource after B's write", got, rec("Patient", "x", 2, at(1), `{"owner":"a"}`))
	got, err = s.Read(ctx, b, "Patient", "x")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "B's resource", got, rec("Patient", "x", 1, at(5), `{"owner":"b"}`))
	if recs, _ := allHistory(t, s, a, store.HistoryQuery{}); len(recs) != 2 {
		t.Errorf("A's history has %d versions, want 2", len(recs))
	}
	if ids := findTokens(t, s, b, store.TokenQuery{Type: "Patient", Param: "identifier", AnySystem: true, Code: "42"}); len(ids) != 0 {
		t.Errorf("B's token-less write finds %v", ids)
	}
}
