package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Index values the search tests give their entries.
var (
	avAgentP1  = store.AuditValue{Param: "agent", System: "Practitioner", Value: "p1"}
	avAgentP2  = store.AuditValue{Param: "agent", System: "Practitioner", Value: "p2"}
	avAgentPat = store.AuditValue{Param: "agent", System: "Patient", Value: "p1"}
	avSubjU1   = store.AuditValue{Param: "agent:identifier", System: "urn:subject", Value: "u1"}
	avSuccess  = store.AuditValue{Param: "outcome", Value: "0"}
	avFailure  = store.AuditValue{Param: "outcome", Value: "4"}
	avRest     = store.AuditValue{Param: "type", System: "urn:type", Value: "avRest"}
	avUserAuth = store.AuditValue{Param: "type", System: "urn:dcm", Value: "110114"}
	avRead     = store.AuditValue{Param: "subtype", System: "urn:interaction", Value: "avRead"}
	avLogin    = store.AuditValue{Param: "subtype", System: "urn:dcm", Value: "110122"}
)

// appendIndexed appends entries (ID, Recorded and Index set) and indexes
// them, as package audit does after the append.
func appendIndexed(ctx context.Context, s store.Store, log store.AuditLog, tenant string, es []store.AuditEntry) ([]store.AuditEntry, error) {
	out, err := appendEntries(ctx, s, tenant, es)
	if err != nil {
		return nil, err
	}
	at, err := log.AuditIndexed(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return out, log.IndexAudit(ctx, tenant, at, out[len(out)-1].Seq, out)
}

func match(v store.AuditValue) store.AuditMatch {
	return store.AuditMatch{Param: v.Param, Systems: []string{v.System}, Value: v.Value}
}

// searchIDs runs a search and lists the ids it returns.
func searchIDs(t testing.TB, log store.AuditLog, tenant string, q store.AuditSearch) string {
	t.Helper()
	page, err := log.SearchAudit(context.Background(), tenant, q)
	if err != nil {
		t.Fatalf("SearchAudit(%+v): %v", q, err)
	}
	var ids []string
	for _, e := range page.Entries {
		ids = append(ids, e.ID)
	}
	return strings.Join(ids, " ")
}

func testAuditSearch(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant, other := newTenant(t), newTenant(t)
	entries := []store.AuditEntry{
		{ID: "e1", Recorded: at(0), Index: []store.AuditValue{avAgentP1, avSubjU1, avSuccess, avRest, avRead}},
		{ID: "e2", Recorded: at(10), Index: []store.AuditValue{avAgentP2, avFailure, avRest, avRead}},
		{ID: "e3", Recorded: at(20), Index: []store.AuditValue{avAgentPat, avSuccess, avUserAuth, avLogin}},
		{ID: "e4", Recorded: at(30), Index: []store.AuditValue{avSubjU1, avFailure, avUserAuth, avLogin}},
		// e5 holds p1 under two types: it is one match, not two.
		{ID: "e5", Recorded: at(40), Index: []store.AuditValue{avAgentP1, avAgentPat, avAgentP2, avSuccess, avRest, avRead}},
	}
	if _, err := appendIndexed(ctx, s, log, tenant, entries); err != nil {
		t.Fatal(err)
	}
	// The other tenant has the same values; none of its entries may show.
	for i := range entries {
		entries[i].ID = "x" + entries[i].ID
	}
	if _, err := appendIndexed(ctx, s, log, other, entries); err != nil {
		t.Fatal(err)
	}
	anyOf := func(ms ...store.AuditMatch) store.AuditCondition { return ms }
	between := func(lo, hi int) store.AuditTimeRange {
		return store.AuditTimeRange{Low: at(lo).UnixMicro(), High: at(hi).UnixMicro()}
	}
	tests := []struct {
		name string
		q    store.AuditSearch
		want string
	}{
		{"everything, newest first", store.AuditSearch{Count: 10}, "e5 e4 e3 e2 e1"},
		{"oldest first", store.AuditSearch{Count: 10, Oldest: true}, "e1 e2 e3 e4 e5"},
		{"one value", store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avAgentP1))}}, "e5 e1"},
		{"any system", store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(store.AuditMatch{Param: "agent", Value: "p1"})}}, "e5 e3 e1"},
		{"one of several systems", store.AuditSearch{Count: 10, Where: []store.AuditCondition{
			anyOf(store.AuditMatch{Param: "agent", Systems: []string{"Patient", "Device"}, Value: "p1"})}}, "e5 e3"},
		{"both of several systems", store.AuditSearch{Count: 10, Oldest: true, Where: []store.AuditCondition{
			anyOf(store.AuditMatch{Param: "agent", Systems: []string{"Patient", "Practitioner"}, Value: "p1"})}}, "e1 e3 e5"},
		{"no system", store.AuditSearch{Count: 10, Where: []store.AuditCondition{
			anyOf(store.AuditMatch{Param: "outcome", Systems: []string{""}, Value: "4"})}}, "e4 e2"},
		{"wrong system", store.AuditSearch{Count: 10, Where: []store.AuditCondition{
			anyOf(store.AuditMatch{Param: "outcome", Systems: []string{"urn:other"}, Value: "4"})}}, ""},
		{"any value of a system", store.AuditSearch{Count: 10, Where: []store.AuditCondition{
			anyOf(store.AuditMatch{Param: "subtype", Systems: []string{"urn:dcm"}})}}, "e4 e3"},
		{"values of another parameter do not match", store.AuditSearch{Count: 10, Where: []store.AuditCondition{
			anyOf(store.AuditMatch{Param: "entity", Value: "p1"})}}, ""},
		{"or", store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avAgentP2), match(avSubjU1))}}, "e5 e4 e2 e1"},
		{"or across parameters", store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avAgentPat), match(avFailure))}}, "e5 e4 e3 e2"},
		{"and", store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avRest)), anyOf(match(avSuccess))}}, "e5 e1"},
		{"and with an or", store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avAgentP2), match(avSubjU1)), anyOf(match(avFailure))}}, "e4 e2"},
		{"and, oldest first, from a position", store.AuditSearch{Count: 10, Oldest: true, After: &store.AuditPosition{Recorded: at(0).UnixMicro(), Seq: 1},
			Where: []store.AuditCondition{anyOf(match(avRest)), anyOf(match(avSuccess))}}, "e5"},
		{"time range, both ends inclusive", store.AuditSearch{Count: 10, When: []store.AuditWhen{{between(10, 30)}}}, "e4 e3 e2"},
		{"outside a range", store.AuditSearch{Count: 10, When: []store.AuditWhen{{{Low: at(10).UnixMicro(), High: at(30).UnixMicro(), Outside: true}}}}, "e5 e1"},
		{"one of two ranges", store.AuditSearch{Count: 10, When: []store.AuditWhen{{between(0, 0), between(40, 40)}}}, "e5 e1"},
		{"open ranges, both must hold", store.AuditSearch{Count: 10, When: []store.AuditWhen{
			{{Low: at(15).UnixMicro(), High: math.MaxInt64}}, {{Low: math.MinInt64, High: at(35).UnixMicro()}}}}, "e4 e3"},
		{"time and values", store.AuditSearch{Count: 10, When: []store.AuditWhen{{between(5, 50)}},
			Where: []store.AuditCondition{anyOf(match(avRest))}}, "e5 e2"},
		{"count", store.AuditSearch{Count: 2}, "e5 e4"},
		{"count 0", store.AuditSearch{}, ""},
	}
	for _, tc := range tests {
		if got := searchIDs(t, log, tenant, tc.q); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	if page, err := log.SearchAudit(ctx, tenant, store.AuditSearch{}); err != nil || page.Next != nil {
		t.Errorf("count 0: %+v, %v", page, err)
	}
	// A purge takes the index values with the entries: nothing of them
	// matches, and what remains still does.
	if n, err := log.PurgeAudit(ctx, tenant, at(15)); err != nil || n != 2 {
		t.Fatalf("PurgeAudit = %d, %v", n, err)
	}
	if got := searchIDs(t, log, tenant, store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avAgentP1))}}); got != "e5" {
		t.Errorf("agent p1 after purge: %q", got)
	}
	if got := searchIDs(t, log, other, store.AuditSearch{Count: 10, Where: []store.AuditCondition{anyOf(match(avAgentP1))}}); got != "xe5 xe1" {
		t.Errorf("the other tenant after this one's purge: %q", got)
	}
}

// The index position moves only from where it stands; values of entries a
// purge removed meanwhile are not written; an entry not indexed yet is
// found by time but not by its values.
func testAuditIndex(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	if at, err := log.AuditIndexed(ctx, tenant); err != nil || at != 0 {
		t.Fatalf("AuditIndexed of a new tenant = %d, %v", at, err)
	}
	es, err := appendEntries(ctx, s, tenant, []store.AuditEntry{
		{ID: "i1", Recorded: at(0)}, {ID: "i2", Recorded: at(1)}, {ID: "i3", Recorded: at(2)}, {ID: "i4", Recorded: at(3)}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		es[i].Index = []store.AuditValue{avAgentP1}
	}
	byAgent := store.AuditSearch{Count: 10, Where: []store.AuditCondition{{match(avAgentP1)}}}
	if got := searchIDs(t, log, tenant, byAgent); got != "" {
		t.Errorf("before indexing, by value: %q", got)
	}
	if got := searchIDs(t, log, tenant, store.AuditSearch{Count: 10}); got != "i4 i3 i2 i1" {
		t.Errorf("before indexing, by time: %q", got)
	}
	err = log.IndexAudit(ctx, tenant, 1, 2, es[1:2])
	checkKind(t, "IndexAudit from the wrong position", err, fhir.KindConflict)
	if err := log.IndexAudit(ctx, tenant, 0, 2, es[:2]); err != nil {
		t.Fatal(err)
	}
	if at, err := log.AuditIndexed(ctx, tenant); err != nil || at != 2 {
		t.Errorf("AuditIndexed = %d, %v; want 2", at, err)
	}
	err = log.IndexAudit(ctx, tenant, 0, 2, es[:2])
	checkKind(t, "IndexAudit again from 0", err, fhir.KindConflict)
	if got := searchIDs(t, log, tenant, byAgent); got != "i2 i1" {
		t.Errorf("after indexing two: %q", got)
	}
	// i3 and i4 are read for indexing, then a purge takes i3 before the
	// indexer writes: only i4's values are written.
	if n, err := log.PurgeAudit(ctx, tenant, at(3)); err != nil || n != 3 {
		t.Fatalf("PurgeAudit = %d, %v", n, err)
	}
	if err := log.IndexAudit(ctx, tenant, 2, 4, es[2:]); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, log, tenant, byAgent); got != "i4" {
		t.Errorf("after the purge and indexing: %q", got)
	}
	// A search on another tenant's values finds nothing of this one.
	if got := searchIDs(t, log, newTenant(t), byAgent); got != "" {
		t.Errorf("another tenant: %q", got)
	}
}

// Paging walks every match exactly once in either order, also across
// entries recorded at the same time, and an entry appended meanwhile does
// not disturb it.
func testAuditSearchPaging(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	var es []store.AuditEntry
	for i := range 23 {
		idx := []store.AuditValue{avSuccess}
		if i%3 == 0 {
			idx = append(idx, avAgentP1)
		}
		// Several entries share a time, so ties are broken by seq.
		es = append(es, store.AuditEntry{ID: fmt.Sprintf("g%02d", i), Recorded: at(i / 4), Index: idx})
	}
	if _, err := appendIndexed(ctx, s, log, tenant, es); err != nil {
		t.Fatal(err)
	}
	late := store.AuditEntry{ID: "late", Recorded: at(100), Index: []store.AuditValue{avSuccess, avAgentP1}}
	// Ids sort as the entries do: gNN by time and seq, then late.
	for _, tc := range []struct {
		name string
		q    store.AuditSearch
		want int
	}{
		// late is appended after this search's first page: newer than
		// every page, it is not on any.
		{"newest first", store.AuditSearch{Count: 5}, 23},
		{"oldest first", store.AuditSearch{Count: 4, Oldest: true}, 24},
		{"filtered", store.AuditSearch{Count: 3, Where: []store.AuditCondition{{match(avAgentP1)}}}, 9},
		{"filtered, oldest first", store.AuditSearch{Count: 2, Oldest: true, Where: []store.AuditCondition{{match(avAgentP1)}}}, 9},
		{"filtered by any system", store.AuditSearch{Count: 4, Where: []store.AuditCondition{{{Param: "agent", Value: "p1"}}}}, 9},
		{"filtered and in a time range", store.AuditSearch{Count: 2, Where: []store.AuditCondition{{match(avAgentP1)}},
			When: []store.AuditWhen{{{Low: at(1).UnixMicro(), High: at(4).UnixMicro()}}}}, 5},
	} {
		var got []string
		q := tc.q
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatalf("%s: paging does not end", tc.name)
			}
			page, err := log.SearchAudit(ctx, tenant, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Entries) > q.Count || (page.Next != nil && len(page.Entries) != q.Count) {
				t.Fatalf("%s: page of %d entries, count %d", tc.name, len(page.Entries), q.Count)
			}
			for _, e := range page.Entries {
				got = append(got, e.ID)
			}
			if page.Next == nil {
				break
			}
			if late.Seq == 0 {
				if late.Seq = 1; !appendOK(t, s, log, tenant, late) {
					return
				}
			}
			q.After = page.Next
		}
		want := slices.Clone(got)
		slices.Sort(want)
		if !q.Oldest {
			slices.Reverse(want)
		}
		if len(got) != tc.want || !slices.Equal(got, slices.Compact(want)) {
			t.Errorf("%s: %d entries %v, want %d in order", tc.name, len(got), got, tc.want)
		}
	}
}

func appendOK(t testing.TB, s store.Store, log store.AuditLog, tenant string, e store.AuditEntry) bool {
	t.Helper()
	if _, err := appendIndexed(context.Background(), s, log, tenant, []store.AuditEntry{e}); err != nil {
		t.Error(err)
		return false
	}
	return true
}

// An entry without an index row for a parameter of store.AuditDefaults
// holds its default: a search for the default finds it, and entries with
// an explicit row for the default (as indexed before the defaults were
// left out), and no search for another value does.
func testAuditDefaults(t *testing.T, s store.Store, log store.AuditLog) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	def := func(param string) store.AuditValue { return store.AuditDefaults[param] }
	avDelete := store.AuditValue{Param: "subtype", System: def("subtype").System, Value: "delete"}
	avOtherServer := store.AuditValue{Param: "source", System: "Device", Value: "other"}
	entries := []store.AuditEntry{
		// d1: a read by p1, every default left out.
		{ID: "d1", Recorded: at(0), Index: []store.AuditValue{avAgentP1}},
		// d2: the same with explicit rows for the defaults.
		{ID: "d2", Recorded: at(10), Index: []store.AuditValue{avAgentP1, def("type"), def("subtype"), def("outcome"), def("source")}},
		// d3: a failed delete by p2 on another server, an auth type.
		{ID: "d3", Recorded: at(20), Index: []store.AuditValue{avAgentP2, avUserAuth, avDelete, avFailure, avOtherServer}},
		// d4: a read with a second subtype, so both are rows.
		{ID: "d4", Recorded: at(30), Index: []store.AuditValue{avAgentP2, def("subtype"), avLogin}},
	}
	if _, err := appendIndexed(ctx, s, log, tenant, entries); err != nil {
		t.Fatal(err)
	}
	where := func(cs ...store.AuditCondition) store.AuditSearch { return store.AuditSearch{Count: 10, Where: cs} }
	one := func(ms ...store.AuditMatch) store.AuditCondition { return ms }
	tests := []struct {
		name string
		q    store.AuditSearch
		want string
	}{
		{"outcome 0", where(one(match(def("outcome")))), "d4 d2 d1"},
		{"outcome 0 without a system", where(one(store.AuditMatch{Param: "outcome", Value: "0"})), "d4 d2 d1"},
		{"outcome 4", where(one(match(avFailure))), "d3"},
		{"outcome 0 or 4", where(one(match(def("outcome")), match(avFailure))), "d4 d3 d2 d1"},
		{"outcome 0 of another system", where(one(store.AuditMatch{Param: "outcome", Systems: []string{"urn:x"}, Value: "0"})), ""},
		{"subtype read", where(one(store.AuditMatch{Param: "subtype", Value: "read"})), "d4 d2 d1"},
		{"any subtype of the default's system", where(one(store.AuditMatch{Param: "subtype", Systems: []string{def("subtype").System}})), "d4 d3 d2 d1"},
		{"subtype delete", where(one(match(avDelete))), "d3"},
		{"source hearth", where(one(match(def("source")))), "d4 d2 d1"},
		{"source other", where(one(match(avOtherServer))), "d3"},
		{"type rest and outcome 0, no driver", where(one(match(def("type"))), one(match(def("outcome")))), "d4 d2 d1"},
		{"agent p1 and a default", where(one(match(avAgentP1)), one(match(def("subtype")))), "d2 d1"},
		{"agent p2 and a default", where(one(match(avAgentP2)), one(match(def("outcome")))), "d4"},
		{"a default, oldest first, in a time range", store.AuditSearch{Count: 10, Oldest: true,
			When:  []store.AuditWhen{{{Low: at(5).UnixMicro(), High: at(35).UnixMicro()}}},
			Where: []store.AuditCondition{one(match(def("type")))}}, "d2 d4"},
	}
	for _, tc := range tests {
		if got := searchIDs(t, log, tenant, tc.q); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// An entry appended but not indexed yet has no rows at all: it is
	// found by time, not taken to hold the defaults.
	if _, err := appendEntries(ctx, s, tenant, []store.AuditEntry{{ID: "d5", Recorded: at(40)}}); err != nil {
		t.Fatal(err)
	}
	if got := searchIDs(t, log, tenant, where(one(match(def("outcome"))))); got != "d4 d2 d1" {
		t.Errorf("outcome 0 with an entry not indexed yet: %q, want %q", got, "d4 d2 d1")
	}
	if got := searchIDs(t, log, tenant, store.AuditSearch{Count: 1}); got != "d5" {
		t.Errorf("by time: %q, want d5", got)
	}
}
