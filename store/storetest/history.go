package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/store"
)

// testHistory checks instance, type and system history, newest first, with
// paging and the Since filter.
func testHistory(t *testing.T, s store.Store) {
	t.Parallel()
	tenant := newTenant(t)
	// Written in this order, so newest first is the reverse.
	writes := []store.Write{
		{Record: rec("Patient", "a", 1, at(0), "")},
		{Record: rec("Observation", "o", 1, at(1), "")},
		{Record: rec("Patient", "b", 1, at(2), "")},
		{Record: rec("Patient", "a", 2, at(3), ""), PrevVersion: 1},
		{Record: rec("Observation", "o", 2, at(4), ""), PrevVersion: 1},
		{Record: marker("Patient", "b", 2, at(5)), PrevVersion: 1},
		{Record: rec("Patient", "a", 3, at(6), ""), PrevVersion: 2},
	}
	for _, w := range writes {
		mustPut(t, s, tenant, w)
	}

	for _, tc := range []struct {
		name  string
		q     store.HistoryQuery
		want  string // type/id/version, newest first
		pages []int
	}{
		{"system", store.HistoryQuery{},
			"Patient/a/3 Patient/b/2 Observation/o/2 Patient/a/2 Patient/b/1 Observation/o/1 Patient/a/1", []int{7}},
		{"system paged by 3", store.HistoryQuery{Count: 3},
			"Patient/a/3 Patient/b/2 Observation/o/2 Patient/a/2 Patient/b/1 Observation/o/1 Patient/a/1", []int{3, 3, 1}},
		{"system page equals total", store.HistoryQuery{Count: 7},
			"Patient/a/3 Patient/b/2 Observation/o/2 Patient/a/2 Patient/b/1 Observation/o/1 Patient/a/1", []int{7}},
		{"system page of one", store.HistoryQuery{Count: 1},
			"Patient/a/3 Patient/b/2 Observation/o/2 Patient/a/2 Patient/b/1 Observation/o/1 Patient/a/1", []int{1, 1, 1, 1, 1, 1, 1}},
		{"type", store.HistoryQuery{Type: "Patient"},
			"Patient/a/3 Patient/b/2 Patient/a/2 Patient/b/1 Patient/a/1", []int{5}},
		{"type paged by 2", store.HistoryQuery{Type: "Patient", Count: 2},
			"Patient/a/3 Patient/b/2 Patient/a/2 Patient/b/1 Patient/a/1", []int{2, 2, 1}},
		{"instance", store.HistoryQuery{Type: "Patient", ID: "a"},
			"Patient/a/3 Patient/a/2 Patient/a/1", []int{3}},
		{"instance paged by 2", store.HistoryQuery{Type: "Patient", ID: "a", Count: 2},
			"Patient/a/3 Patient/a/2 Patient/a/1", []int{2, 1}},
		{"instance with delete marker", store.HistoryQuery{Type: "Patient", ID: "b"},
			"Patient/b/2 Patient/b/1", []int{2}},
		{"since is inclusive", store.HistoryQuery{Since: at(4)},
			"Patient/a/3 Patient/b/2 Observation/o/2", []int{3}},
		{"since with type and paging", store.HistoryQuery{Type: "Patient", Since: at(2), Count: 2},
			"Patient/a/3 Patient/b/2 Patient/a/2 Patient/b/1", []int{2, 2}},
		{"since instance", store.HistoryQuery{Type: "Patient", ID: "a", Since: at(3)},
			"Patient/a/3 Patient/a/2", []int{2}},
		{"since after everything", store.HistoryQuery{Since: at(7)}, "", []int{0}},
		{"unknown type", store.HistoryQuery{Type: "Encounter"}, "", []int{0}},
		{"unknown instance", store.HistoryQuery{Type: "Patient", ID: "zz"}, "", []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, pages := allHistory(t, s, tenant, tc.q)
			if got := historyKeys(recs); got != tc.want {
				t.Errorf("history =\n  %s\nwant\n  %s", got, tc.want)
			}
			if fmt.Sprint(pages) != fmt.Sprint(tc.pages) {
				t.Errorf("page sizes = %v, want %v", pages, tc.pages)
			}
		})
	}

	// The records carry their data, delete markers without a body.
	page, err := s.History(context.Background(), tenant, store.HistoryQuery{Type: "Patient", ID: "b"})
	if err != nil || len(page.Records) != 2 {
		t.Fatalf("History Patient/b: %+v, %v", page, err)
	}
	checkRecord(t, "marker in history", page.Records[0], writes[5].Record)
	checkRecord(t, "version in history", page.Records[1], writes[2].Record)
}

func historyKeys(recs []store.Record) string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = fmt.Sprintf("%s/%s/%d", r.Type, r.ID, r.Version)
	}
	return strings.Join(keys, " ")
}
