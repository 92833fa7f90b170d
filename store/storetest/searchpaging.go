package storetest

import (
	"context"
	"fmt"
	"slices"
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
	put := func(id, family string, birth string) {
		body := fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":%q}]`, id, family)
		if birth != "" {
			body += fmt.Sprintf(`,"birthDate":%q`, birth)
		}
		body += "}"
		ix, err := reg.Index("Patient", []byte(body), searchBase)
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, sr.tenant, store.Write{Record: rec("Patient", id, 1, at(0), body), Index: ix})
	}
	// 23 patients; families repeat so that ties fall back to the id, and
	// some have no birth date so that NULLs sort last.
	for i := range 23 {
		birth := ""
		if i%4 != 0 {
			birth = fmt.Sprintf("19%02d", 50+i%7)
		}
		put(fmt.Sprintf("p%02d", i), fmt.Sprintf("fam%d", i%5), birth)
	}
	all := func(q string) []string {
		return ids(sr.run(t, sr.query(t, "Patient", q+"&_count=1000")).Records, false)
	}
	for _, query := range []string{"_count=5", "_count=4&_sort=family", "_count=3&_sort=-birthdate,family", "_count=7&_sort=birthdate&family=fam1,fam2,fam3"} {
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

// testSearchIncludes checks _include (typed, untyped, *), :iterate and
// _revinclude.
func testSearchIncludes(t *testing.T, s store.Store, reg *search.Registry) {
	t.Parallel()
	sr := searcher{s: s, reg: reg, tenant: newTenant(t)}
	loadSearchData(t, s, reg, sr.tenant)
	for _, c := range []struct {
		typ, query string
		matches    []string
		included   []string // Type/id, sorted
	}{
		{"Observation", "_id=example&_include=Observation:subject", []string{"example"}, []string{"Patient/example"}},
		{"Observation", "_id=example&_include=Observation:subject:Patient", []string{"example"}, []string{"Patient/example"}},
		{"Observation", "_id=example&_include=Observation:subject:Group", []string{"example"}, nil},
		{"Observation", "_id=example&_include=*", []string{"example"}, []string{"Encounter/example", "Patient/example"}},
		{"Observation", "_id=f001&_include=Observation:subject&_include:iterate=Patient:organization", []string{"f001"},
			[]string{"Organization/f001", "Patient/f001"}},
		{"Observation", "_id=f001&_include=Observation:subject&_include=Patient:organization", []string{"f001"},
			[]string{"Patient/f001"}},
		{"Patient", "_id=f001&_revinclude=Observation:subject", []string{"f001"},
			[]string{"Observation/ekg", "Observation/f001"}},
		{"Patient", "_id=f001&_revinclude=Observation:subject&_revinclude=RiskAssessment:subject", []string{"f001"},
			[]string{"Observation/ekg", "Observation/f001", "RiskAssessment/ra3"}},
		{"Organization", "_id=1&_revinclude=Patient:organization&_revinclude:iterate=Observation:subject&_count=1000",
			[]string{"1"}, nil}, // checked by count below
	} {
		t.Run(c.typ+"?"+c.query, func(t *testing.T) {
			p := sr.run(t, sr.query(t, c.typ, c.query))
			inc := ids(p.Included, true)
			slices.Sort(inc)
			if got := ids(p.Records, false); !slices.Equal(got, c.matches) {
				t.Fatalf("matches %v, want %v", got, c.matches)
			}
			if c.included == nil && c.typ == "Organization" {
				// 6 patients of Organization/1, 4 observations of Patient/example.
				if len(inc) != 10 {
					t.Fatalf("included %v, want 6 patients and 4 observations", inc)
				}
				return
			}
			if !slices.Equal(inc, c.included) {
				t.Fatalf("included %v, want %v", inc, c.included)
			}
		})
	}
}

// testSearchConstraints checks that access-policy constraints narrow the
// matches, chains, _has and includes alike, inside the query.
func testSearchConstraints(t *testing.T, s store.Store, reg *search.Registry) {
	t.Parallel()
	sr := searcher{s: s, reg: reg, tenant: newTenant(t)}
	loadSearchData(t, s, reg, sr.tenant)
	female := store.Constraint{Type: "Patient", Where: sr.query(t, "Patient", "gender=female").Where}
	noPatients := store.Constraint{Type: "Patient", Deny: true}
	for _, c := range []struct {
		name       string
		typ, query string
		cons       []store.Constraint
		want       []string
	}{
		{"matches", "Patient", "family=notsowell", []store.Constraint{female}, []string{"pat4"}},
		{"count", "Patient", "_id=pat3,pat4,animal", []store.Constraint{female}, []string{"animal", "pat4"}},
		{"wildcard", "Patient", "family=notsowell", []store.Constraint{{Type: "*", Where: female.Where}}, []string{"pat4"}},
		{"other type untouched", "Observation", "patient=f001", []store.Constraint{female}, []string{"ekg", "f001"}},
		{"chain", "Observation", "subject:Patient.family=chalmers", []store.Constraint{female}, nil},
		{"chain denied", "Observation", "subject:Patient.family=chalmers", []store.Constraint{noPatients}, nil},
		{"has", "Organization", "_has:Patient:organization:family=notsowell", []store.Constraint{noPatients}, nil},
		{"has narrowed", "Organization", "_has:Patient:organization:gender=male&_id=1", []store.Constraint{female}, nil},
		{"denied type", "Patient", "family=notsowell", []store.Constraint{noPatients}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := sr.query(t, c.typ, c.query)
			q.Constraints, q.Total = c.cons, true
			p := sr.run(t, q)
			got := ids(p.Records, false)
			slices.Sort(got)
			if !slices.Equal(got, c.want) || p.Total != int64(len(c.want)) {
				t.Fatalf("got %v (total %d), want %v", got, p.Total, c.want)
			}
		})
	}
	t.Run("include", func(t *testing.T) {
		q := sr.query(t, "Observation", "_id=example,f001&_include=Observation:subject")
		q.Constraints = []store.Constraint{female}
		if p := sr.run(t, q); len(p.Included) != 0 {
			t.Fatalf("included %v past the constraint", ids(p.Included, true))
		}
	})
}

// testSearchInTx checks that a search inside a transaction sees the
// transaction's own writes, and updated and deleted resources leave the
// index.
func testSearchInTx(t *testing.T, s store.Store, reg *search.Registry) {
	t.Parallel()
	sr := searcher{s: s, reg: reg, tenant: newTenant(t)}
	ctx := context.Background()
	body := func(family string) string {
		return `{"resourceType":"Patient","id":"p","name":[{"family":"` + family + `"}]}`
	}
	write := func(tx store.Tx, v int64, family string, deleted bool) error {
		w := store.Write{Record: rec("Patient", "p", v, at(int(v)), body(family)), PrevVersion: v - 1}
		if deleted {
			w.Record = marker("Patient", "p", v, at(int(v)))
		} else {
			ix, err := reg.Index("Patient", []byte(body(family)), searchBase)
			if err != nil {
				return err
			}
			w.Index = ix
		}
		return tx.Put(ctx, w)
	}
	find := func(family string) []string {
		return ids(sr.run(t, sr.query(t, "Patient", "family="+family)).Records, false)
	}
	err := s.Tx(ctx, sr.tenant, func(tx store.Tx) error {
		if err := write(tx, 1, "first", false); err != nil {
			return err
		}
		p, err := tx.Search(ctx, sr.query(t, "Patient", "family=first"))
		if err != nil {
			return err
		}
		if len(p.Records) != 1 {
			return fmt.Errorf("search in the transaction finds %v", ids(p.Records, false))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustPutTx := func(v int64, family string, deleted bool) {
		if err := s.Tx(ctx, sr.tenant, func(tx store.Tx) error { return write(tx, v, family, deleted) }); err != nil {
			t.Fatal(err)
		}
	}
	mustPutTx(2, "second", false)
	if got := find("first"); len(got) != 0 {
		t.Fatalf("old value still found: %v", got)
	}
	if got := find("second"); !slices.Equal(got, []string{"p"}) {
		t.Fatalf("new value finds %v", got)
	}
	mustPutTx(3, "", true)
	if got := find("second"); len(got) != 0 {
		t.Fatalf("deleted resource found: %v", got)
	}
}
