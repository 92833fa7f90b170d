package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// testTxRollback checks that a transaction whose function fails leaves no
// trace: not in reads, history or the token index.
func testTxRollback(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	oldTok := store.Token{Param: "identifier", System: "urn:x", Code: "old"}
	newTok := store.Token{Param: "identifier", System: "urn:x", Code: "new"}
	a1 := rec("Patient", "a", 1, at(0), "")
	d1 := rec("Patient", "d", 1, at(0), "")
	mustPut(t, s, tenant, store.Write{Record: a1, Tokens: []store.Token{oldTok}})
	mustPut(t, s, tenant, store.Write{Record: d1, Tokens: []store.Token{oldTok}})
	before, _ := allHistory(t, s, tenant, store.HistoryQuery{})

	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		fail func(tx store.Tx) error // runs after the writes
	}{
		{"fn returns an error", func(store.Tx) error { return boom }},
		{"fn returns a fhir error", func(store.Tx) error { return &fhir.Error{Kind: fhir.KindInvalid, Message: "bad", Cause: boom} }},
		{"fn returns a failed Put's conflict", func(tx store.Tx) error {
			err := tx.Put(ctx, store.Write{Record: rec("Patient", "a", 2, at(9), "")})
			if !fhir.IsKind(err, fhir.KindConflict) {
				t.Errorf("create over existing in Tx: %v, want conflict", err)
			}
			return errors.Join(boom, err)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Tx(ctx, tenant, func(tx store.Tx) error {
				writes := []store.Write{
					{Record: rec("Patient", "a", 2, at(1), ""), PrevVersion: 1, Tokens: []store.Token{newTok}},
					{Record: rec("Patient", "b", 1, at(1), ""), Tokens: []store.Token{newTok}},
					{Record: rec("Patient", "c", 1, at(1), "")},
					{Record: rec("Patient", "c", 2, at(2), ""), PrevVersion: 1},
					{Record: marker("Patient", "d", 2, at(2)), PrevVersion: 1},
				}
				for _, w := range writes {
					if err := tx.Put(ctx, w); err != nil {
						t.Fatalf("Put in Tx: %v", err)
					}
				}
				return tc.fail(tx)
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Tx returned %v, want fn's error", err)
			}

			for _, want := range []store.Record{a1, d1} {
				got, err := read(t, s, tenant, want.Type, want.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkRecord(t, "Read after rollback", got, want)
			}
			for _, id := range []string{"b", "c"} {
				_, err := read(t, s, tenant, "Patient", id)
				checkKind(t, "Read of rolled-back create", err, fhir.KindNotFound)
			}
			_, err = s.ReadVersion(ctx, tenant, "Patient", "a", 2)
			checkKind(t, "ReadVersion of rolled-back update", err, fhir.KindNotFound)
			after, _ := allHistory(t, s, tenant, store.HistoryQuery{})
			if historyKeys(after) != historyKeys(before) {
				t.Errorf("history after rollback = %s, want %s", historyKeys(after), historyKeys(before))
			}
			q := store.TokenQuery{Type: "Patient", Param: "identifier", System: "urn:x"}
			q.Code = "old"
			if ids := findTokens(t, s, tenant, q); !slices.Equal(ids, []string{"a", "d"}) {
				t.Errorf("old token finds %v, want [a d]", ids)
			}
			q.Code = "new"
			if ids := findTokens(t, s, tenant, q); len(ids) != 0 {
				t.Errorf("new token finds %v after rollback", ids)
			}
		})
	}
}

// testTxVisibility checks that a transaction sees its own writes and that
// nobody else does until it commits.
func testTxVisibility(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	tok := store.Token{Param: "identifier", Code: "v"}
	w := store.Write{Record: rec("Patient", "v", 1, at(0), ""), Tokens: []store.Token{tok}}
	err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		if err := tx.Put(ctx, w); err != nil {
			return err
		}
		got, err := tx.Read(ctx, "Patient", "v")
		if err != nil {
			return err
		}
		checkRecord(t, "own write", got, w.Record)
		ids, err := tx.FindTokens(ctx, store.TokenQuery{Type: "Patient", Param: "identifier", Code: "v"})
		if err != nil {
			return err
		}
		if !slices.Equal(ids, []string{"v"}) {
			t.Errorf("own token finds %v", ids)
		}
		// Outside the transaction the write does not exist yet.
		_, err = s.Read(ctx, tenant, "Patient", "v")
		checkKind(t, "Read before commit", err, fhir.KindNotFound)
		page, err := s.History(ctx, tenant, store.HistoryQuery{})
		if err != nil {
			return err
		}
		if len(page.Records) != 0 {
			t.Errorf("history before commit has %d records", len(page.Records))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := read(t, s, tenant, "Patient", "v")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, "Read after commit", got, w.Record)
}

// testTxPanic checks that a panic in fn rolls the transaction back, goes on
// up to the caller, and leaves the store usable.
func testTxPanic(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the panic to reach the caller", r)
			}
		}()
		_ = s.Tx(ctx, tenant, func(tx store.Tx) error {
			if err := tx.Put(ctx, store.Write{Record: rec("Patient", "p", 1, at(0), "")}); err != nil {
				t.Errorf("Put: %v", err)
			}
			panic("boom")
		})
	}()
	_, err := read(t, s, tenant, "Patient", "p")
	checkKind(t, "Read after panic", err, fhir.KindNotFound)
	// The write connection came back: a later write works.
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p", 1, at(1), "")})
}
