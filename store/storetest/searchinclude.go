package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

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
		// A constraint that reaches its own type is not applied to itself again.
		{"self-referencing constraint", "Patient", "family=notsowell",
			[]store.Constraint{{Type: "Patient", Where: sr.query(t, "Patient", "link:Patient.gender=female").Where}}, nil},
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
