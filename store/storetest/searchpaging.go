package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// pageThrough follows Next cursors from the first page and returns every
// id, failing on a page larger than the query's Count. between runs after
// each page, to write while the client pages.
func (sr searcher) pageThrough(t testing.TB, q store.SearchQuery, between func(page int)) []string {
	t.Helper()
	var all []string
	for page := 0; page < 100; page++ {
		p := sr.run(t, q)
		if len(p.Records) > q.Count {
			t.Fatalf("page of %d records, Count %d", len(p.Records), q.Count)
		}
		all = append(all, ids(p.Records, false)...)
		if p.Next == nil {
			return all
		}
		if between != nil {
			between(page)
		}
		q.Cursor = p.Next
	}
	t.Fatal("paging never ended")
	return nil
}

// testSearchPaging checks keyset paging: every match exactly once, in
// order, forwards and backwards, with and without sort keys, while other
// resources are written between the pages.
func testSearchPaging(t *testing.T, s store.Store, reg *search.Registry) {
	t.Parallel()
	sr := searcher{s: s, reg: reg, tenant: newTenant(t)}
	putAt := func(id, family string, birth string, second int) {
		body := fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":%q}]`, id, family)
		if birth != "" {
			body += fmt.Sprintf(`,"birthDate":%q`, birth)
		}
		body += "}"
		ix, err := reg.Index("Patient", []byte(body), searchBase)
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, sr.tenant, store.Write{Record: rec("Patient", id, 1, at(second), body), Index: ix})
	}
	put := func(id, family string, birth string) { putAt(id, family, birth, 0) }
	// 23 patients; families repeat so that ties fall back to the id, and
	// some have no birth date so that NULLs sort last; written in three
	// different seconds, so that _lastUpdated sorts them in groups.
	var byRecent []string // newest first, then by id: _sort=-_lastUpdated
	for second := 2; second >= 0; second-- {
		for i := range 23 {
			if i%3 == second {
				byRecent = append(byRecent, fmt.Sprintf("p%02d", i))
			}
		}
	}
	for i := range 23 {
		birth := ""
		if i%4 != 0 {
			birth = fmt.Sprintf("19%02d", 50+i%7)
		}
		putAt(fmt.Sprintf("p%02d", i), fmt.Sprintf("fam%d", i%5), birth, i%3)
	}
	all := func(q string) []string {
		return ids(sr.run(t, sr.query(t, "Patient", q+"&_count=1000")).Records, false)
	}
	if got := all("_sort=-_lastUpdated"); !slices.Equal(got, byRecent) {
		t.Fatalf("_sort=-_lastUpdated gives %v, want %v", got, byRecent)
	}
	for _, query := range []string{"_count=5", "_count=4&_sort=family", "_count=3&_sort=-birthdate,family", "_count=7&_sort=birthdate&family=fam1,fam2,fam3",
		"_count=4&_sort=-_lastUpdated", "_count=3&_sort=_lastUpdated,-_id&family=fam1,fam2", "_count=5&_sort=-_id"} {
		t.Run(query, func(t *testing.T) {
			want := all(query[len("_count=N"):])
			q := sr.query(t, "Patient", query)
			got := sr.pageThrough(t, q, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("pages give %v, want %v", got, want)
			}
			// Backwards from the last page gives the same, reversed page by page.
			var last *store.SearchPage
			for c := q; ; {
				p := sr.run(t, c)
				last = &p
				if p.Next == nil {
					break
				}
				c.Cursor = p.Next
			}
			var back []string
			for p := *last; ; {
				back = append(ids(p.Records, false), back...)
				if p.Prev == nil {
					break
				}
				c := q
				c.Cursor = p.Prev
				p = sr.run(t, c)
			}
			if !slices.Equal(back, want) {
				t.Fatalf("pages backwards give %v, want %v", back, want)
			}
		})
	}

	// Resources written while a client pages never shift the pages: every
	// resource that existed before keeps its place, none appears twice.
	t.Run("concurrent writes", func(t *testing.T) {
		before := all("_sort=family")
		q := sr.query(t, "Patient", "_count=4&_sort=family")
		got := sr.pageThrough(t, q, func(page int) {
			put(fmt.Sprintf("a%02d", page), "fam0", "")  // sorts before the cursor
			put(fmt.Sprintf("z%02d", page), "fam9", "")  // after it
			put(fmt.Sprintf("p%02dx", page), "fam2", "") // next to it
		})
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Fatalf("%s appears twice", id)
			}
			seen[id] = true
		}
		for _, id := range before {
			if !seen[id] {
				t.Fatalf("%s was skipped", id)
			}
		}
	})

	t.Run("total and count only", func(t *testing.T) {
		q := sr.query(t, "Patient", "family=fam1")
		q.Total, q.Count = true, 0
		p := sr.run(t, q)
		if p.Total != 5 || len(p.Records) != 0 {
			t.Fatalf("total %d with %d records, want 5 and none", p.Total, len(p.Records))
		}
	})

	t.Run("cursor of another sort", func(t *testing.T) {
		q := sr.query(t, "Patient", "_count=2&_sort=family")
		p := sr.run(t, q)
		q2 := sr.query(t, "Patient", "_count=2&_sort=family,birthdate")
		q2.Cursor = p.Next
		if _, err := s.Search(context.Background(), sr.tenant, q2); !fhir.IsKind(err, fhir.KindInvalid) {
			t.Fatalf("Search with a foreign cursor: %v, want invalid", err)
		}
	})
}

// testSearchLastUpdated checks _lastUpdated, which is a column of the
// resource row rather than an index row, as a criterion and a sort key.
func testSearchLastUpdated(t *testing.T, s store.Store, reg *search.Registry) {
	t.Parallel()
	sr := searcher{s: s, reg: reg, tenant: newTenant(t)}
	for i, id := range []string{"c", "a", "b"} {
		body := `{"resourceType":"Patient","id":"` + id + `"}`
		mustPut(t, s, sr.tenant, store.Write{Record: rec("Patient", id, 1, at(i*60), body)})
	}
	// at(0) is 2024-03-05T07:11:13.123456Z; the others a minute apart.
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"_lastUpdated=2024-03-05", []string{"a", "b", "c"}},
		{"_lastUpdated=gt2024-03-05T07:12:13Z", []string{"b"}},
		{"_lastUpdated=gt2024-03-05T07:12:00Z", []string{"a", "b"}},
		{"_lastUpdated=2024-03-05T07:12", []string{"a"}},
		{"_lastUpdated=le2024-03-05T07:12:13.123456Z", []string{"a", "c"}},
		{"_lastUpdated=lt2024-03-05T07:11:13.123456Z", nil},
		{"_sort=-_lastUpdated", []string{"b", "a", "c"}},
		{"_sort=_lastUpdated&_lastUpdated=ge2024-03-05T07:12:13Z", []string{"a", "b"}},
	} {
		t.Run(c.query, func(t *testing.T) {
			got := ids(sr.run(t, sr.query(t, "Patient", c.query)).Records, false)
			if !strings.Contains(c.query, "_sort") {
				slices.Sort(got)
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
