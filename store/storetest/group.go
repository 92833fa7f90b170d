package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// testGroup checks store.CommitGroup (the backend's GroupWriter when it
// has one): a group is written whole or not at all.
func testGroup(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	first, err := appendAudit(ctx, s, tenant, at(0), "a0") // creates the head row
	if err != nil {
		t.Fatal(err)
	}
	head, err := log.AuditChain(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	entries := groupEntries

	// A group of two creates and an update, with three entries.
	if err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		return tx.Put(ctx, store.Write{Record: rec("Patient", "u", 1, at(0), "")})
	}); err != nil {
		t.Fatal(err)
	}
	ws := []store.Write{
		{Record: rec("Patient", "g1", 1, at(1), "")},
		{Record: rec("Patient", "g2", 1, at(1), "")},
		{Record: rec("Patient", "u", 2, at(1), ""), PrevVersion: 1},
	}
	es := entries(head, "a1", "a2", "a3")
	got, err := store.CommitGroup(ctx, s, tenant, ws, head, es, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != head.Seq+3 || string(got.Hash) != string(es[2].Hash) {
		t.Errorf("head after the group = %d, want %d", got.Seq, head.Seq+3)
	}
	for _, id := range []string{"g1", "g2"} {
		if _, err := read(t, s, tenant, "Patient", id); err != nil {
			t.Errorf("Patient/%s after the group: %v", id, err)
		}
	}
	if r, err := read(t, s, tenant, "Patient", "u"); err != nil || r.Version != 2 {
		t.Errorf("Patient/u after the group = v%d, %v", r.Version, err)
	}
	if all, _ := log.ScanAudit(ctx, tenant, store.AuditQuery{}); len(all) != 4 || all[0].ID != first[0].ID {
		t.Errorf("chain holds %d entries, want 4", len(all))
	}

	// Creates with index rows of several tables, and one without any: each
	// resource's rows land on it alone (PostgreSQL writes a group's
	// creates in one statement).
	indexed := func(id, code string) store.Write {
		return store.Write{Record: rec("Patient", id, 1, at(1), ""), Index: search.Index{
			Tokens:     []search.TokenRow{{Param: "identifier", System: "s", Code: code}, {Param: "gender", Code: "other"}},
			Dates:      []search.DateRow{{Param: "birthdate", Low: 1, High: 2}},
			References: []search.ReferenceRow{{Param: "organization", TargetType: "Organization", TargetID: code}},
		}}
	}
	if _, err := store.CommitGroup(ctx, s, tenant, []store.Write{indexed("i1", "k1"), {Record: rec("Patient", "i2", 1, at(1), "")},
		indexed("i3", "k3")}, got, entries(got, "i1", "i2", "i3"), nil); err != nil {
		t.Fatal(err)
	}
	got, _ = log.AuditChain(ctx, tenant)
	if err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		for code, want := range map[string]string{"k1": "i1", "k3": "i3"} {
			ids, err := tx.FindTokens(ctx, store.TokenQuery{Type: "Patient", Param: "identifier", System: "s", Code: code})
			if err != nil {
				return err
			}
			if len(ids) != 1 || ids[0] != want {
				t.Errorf("identifier %s finds %v, want [%s]", code, ids, want)
			}
		}
		ids, err := tx.FindTokens(ctx, store.TokenQuery{Type: "Patient", Param: "gender", AnySystem: true, Code: "other"})
		if err != nil {
			return err
		}
		if len(ids) != 2 || ids[0] != "i1" || ids[1] != "i3" {
			t.Errorf("gender=other finds %v, want [i1 i3]", ids)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// An update that lost its race sinks the whole group: the create
	// before it and the entries after it are not written.
	lost := []store.Write{
		{Record: rec("Patient", "g3", 1, at(2), "")},
		{Record: rec("Patient", "u", 3, at(2), ""), PrevVersion: 1}, // current is 2
	}
	_, err = store.CommitGroup(ctx, s, tenant, lost, got, entries(got, "b1", "b2"), nil)
	checkKind(t, "group with a stale update", err, fhir.KindConflict)
	_, err = read(t, s, tenant, "Patient", "g3")
	checkKind(t, "create of a failed group", err, fhir.KindNotFound)
	if h, _ := log.AuditChain(ctx, tenant); h.Seq != got.Seq {
		t.Errorf("failed group moved the head to %d, want %d", h.Seq, got.Seq)
	}

	// A create of an id that exists sinks it too.
	_, err = store.CommitGroup(ctx, s, tenant, []store.Write{{Record: rec("Patient", "g4", 1, at(2), "")},
		{Record: rec("Patient", "g1", 1, at(2), "")}}, got, entries(got, "c1"), nil)
	checkKind(t, "group with a taken id", err, fhir.KindConflict)
	_, err = read(t, s, tenant, "Patient", "g4")
	checkKind(t, "create of a group with a taken id", err, fhir.KindNotFound)

	// So do two creates of one id in the same group.
	_, err = store.CommitGroup(ctx, s, tenant, []store.Write{{Record: rec("Patient", "g6", 1, at(2), "")},
		{Record: rec("Patient", "g6", 1, at(2), "")}}, got, entries(got, "f1", "f2"), nil)
	checkKind(t, "group creating one id twice", err, fhir.KindConflict)
	_, err = read(t, s, tenant, "Patient", "g6")
	checkKind(t, "create of a group creating one id twice", err, fhir.KindNotFound)

	// A head that moved on sinks the writes with the entries.
	_, err = store.CommitGroup(ctx, s, tenant, []store.Write{{Record: rec("Patient", "g5", 1, at(2), "")}},
		head, entries(head, "d1"), nil)
	checkKind(t, "group on a stale head", err, fhir.KindConflict)
	_, err = read(t, s, tenant, "Patient", "g5")
	checkKind(t, "create of a group on a stale head", err, fhir.KindNotFound)
	if h, _ := log.AuditChain(ctx, tenant); h.Seq != got.Seq {
		t.Errorf("stale group moved the head to %d, want %d", h.Seq, got.Seq)
	}

	// So does a head with the right sequence and another hash: the head a
	// group that failed would have left, which the next group in flight
	// was prepared on.
	forged := got
	forged.Hash = append([]byte(nil), got.Hash...)
	forged.Hash[0] ^= 1
	_, err = store.CommitGroup(ctx, s, tenant, []store.Write{{Record: rec("Patient", "g7", 1, at(2), "")}},
		forged, entries(forged, "h1"), nil)
	checkKind(t, "group on a head of another hash", err, fhir.KindConflict)
	_, err = read(t, s, tenant, "Patient", "g7")
	checkKind(t, "create of a group on a head of another hash", err, fhir.KindNotFound)

	// And the chain goes on from where the last good group left it.
	if _, err := store.CommitGroup(ctx, s, tenant, nil, got, entries(got, "e1"), nil); err != nil {
		t.Errorf("audit-only group: %v", err)
	}
}

// groupEntries chains AuditEntries with the given ids onto head.
func groupEntries(head store.AuditHead, ids ...string) []store.AuditEntry {
	var out []store.AuditEntry
	prev, seq := head.Hash, head.Seq
	for _, id := range ids {
		seq++
		body := []byte(`{"resourceType":"AuditEvent","id":"` + id + `"}`)
		e := store.AuditEntry{Seq: seq, ID: id, Recorded: at(1), PrevHash: prev, Hash: chainHash(prev, body), Body: body}
		out, prev = append(out, e), e.Hash
	}
	return out
}

// testGroupHeld checks CommitGroup's held: it is called once per group,
// and a group sent after it, prepared on the head the first will leave,
// commits after the first, however many writes the first still has to
// run. This is what lets the audit committer send the next group before
// it has settled the first (on PostgreSQL held comes with the commit: see
// postgres.DB.CommitGroup).
func testGroupHeld(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	if _, err := appendAudit(ctx, s, tenant, at(0), "a0"); err != nil {
		t.Fatal(err)
	}
	head, err := log.AuditChain(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		var first []store.Write
		for i := range 30 {
			first = append(first, store.Write{Record: rec("Patient", fmt.Sprintf("r%d-%d", round, i), 1, at(1), "")})
		}
		firstEntries := groupEntries(head, fmt.Sprintf("r%d-a", round))
		var calls atomic.Int32
		held := make(chan store.AuditHead, 1)
		type result struct {
			head store.AuditHead
			err  error
		}
		done := make(chan result, 1)
		go func() {
			h, err := store.CommitGroup(ctx, s, tenant, first, head, firstEntries, func(leaves store.AuditHead) {
				if calls.Add(1) == 1 {
					held <- leaves
				}
			})
			done <- result{h, err}
		}()
		var next store.AuditHead
		var returned *result // the first group's, when it came with held
		select {
		case next = <-held:
		case r := <-done:
			// held is called before CommitGroup returns (on PostgreSQL
			// right before): both may be ready when select looks.
			select {
			case next = <-held:
				returned = &r
			default:
				t.Fatalf("round %d: first group returned (%v) before held", round, r.err)
			}
		}
		after, err := store.CommitGroup(ctx, s, tenant, []store.Write{{Record: rec("Patient", fmt.Sprintf("r%d-b", round), 1, at(1), "")}},
			next, groupEntries(next, fmt.Sprintf("r%d-b", round)), nil)
		if err != nil {
			t.Fatalf("round %d: group sent once the first held the head: %v", round, err)
		}
		if returned == nil {
			r := <-done
			returned = &r
		}
		r := *returned
		if r.err != nil {
			t.Fatalf("round %d: first group: %v", round, r.err)
		}
		if r.head.Seq != next.Seq || string(r.head.Hash) != string(next.Hash) {
			t.Errorf("round %d: held reported head %d, the group returned %d", round, next.Seq, r.head.Seq)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("round %d: held called %d times", round, n)
		}
		head = after
	}
	if h, err := log.AuditChain(ctx, tenant); err != nil || h.Seq != head.Seq || string(h.Hash) != string(head.Hash) {
		t.Errorf("chain head = %d, %v; want %d", h.Seq, err, head.Seq)
	}

	// A group without entries leaves the head as it is and says so.
	var calls atomic.Int32
	if _, err := store.CommitGroup(ctx, s, tenant, []store.Write{{Record: rec("Patient", "w", 1, at(1), "")}}, head, nil,
		func(leaves store.AuditHead) {
			if leaves.Seq == head.Seq && string(leaves.Hash) == string(head.Hash) {
				calls.Add(1)
			}
		}); err != nil || calls.Load() != 1 {
		t.Errorf("group without entries: %v, held called %d times", err, calls.Load())
	}
}
