package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

// TestSearchUnderPolicy checks that a search returns exactly what the
// caller may read one by one, counts only that, keeps hidden fields hidden,
// and that chains and includes cannot reach past the policy.
func TestSearchUnderPolicy(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, engine.DefaultConfig())
	w.load(t)
	people := map[string]engine.Principal{
		"practitioner": w.user(t, "Practitioner/p1", "practitioner"),
		"staff":        w.user(t, "Practitioner/s1", "staff"),
		"admin":        w.user(t, "Practitioner/a1", "admin"),
		"patient":      w.user(t, "Patient/pat1", "patient"),
		"client":       w.client(t),
	}
	types := map[string][]string{}
	for ref := range dataset {
		typ, id, _ := strings.Cut(ref, "/")
		types[typ] = append(types[typ], id)
	}
	for who, p := range people {
		for typ, ids := range types {
			t.Run(who+" searches "+typ, func(t *testing.T) {
				var readable []string
				for _, id := range ids {
					if _, err := w.eng.Read(ctx, p, typ, id); err == nil {
						readable = append(readable, id)
					}
				}
				res, err := w.eng.Search(ctx, p, engine.SearchRequest{Type: typ, Query: "_total=accurate"})
				if fhir.IsKind(err, fhir.KindForbidden) {
					if len(readable) > 0 {
						t.Fatalf("search forbidden, but reads allow %v", readable)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, r := range res.Page.Records {
					got = append(got, r.ID)
					if typ == "Practitioner" && who != "admin" && who != "client" && hasField(t, r.Body, "birthDate") {
						t.Errorf("search shows a hidden birth date: %s", r.Body)
					}
				}
				slices.Sort(got)
				slices.Sort(readable)
				if !slices.Equal(got, readable) || res.Page.Total != int64(len(readable)) {
					t.Fatalf("search gives %v (total %d), reads allow %v", got, res.Page.Total, readable)
				}
			})
		}
	}

	prac := people["practitioner"]
	search := func(p engine.Principal, typ, q string) []string {
		t.Helper()
		res, err := w.eng.Search(ctx, p, engine.SearchRequest{Type: typ, Query: q})
		if err != nil {
			t.Fatalf("%s?%s: %v", typ, q, err)
		}
		var out []string
		for _, r := range append(res.Page.Records, res.Page.Included...) {
			out = append(out, r.Type+"/"+r.ID)
		}
		slices.Sort(out)
		return out
	}
	// m1 is about Patient/pat1, whom the practitioner may not read: a
	// chain through the patient must not match, an include must not add it.
	if got := search(prac, "Communication", "subject:Patient.family=doe"); len(got) != 0 {
		t.Errorf("chain through an unreadable patient matched %v", got)
	}
	if got := search(people["client"], "Communication", "subject:Patient.family=doe"); !slices.Equal(got, []string{"Communication/m1"}) {
		t.Errorf("client's chain gives %v", got)
	}
	if got := search(prac, "Communication", "_id=m1&_include=Communication:subject"); !slices.Equal(got, []string{"Communication/m1"}) {
		t.Errorf("include past the policy: %v", got)
	}
	if got := search(prac, "Practitioner", "_has:Communication:sender:recipient=Practitioner/p3"); len(got) != 0 {
		t.Errorf("_has through an unreadable message matched %v", got)
	}
	if got := search(people["client"], "Practitioner", "_has:Communication:sender:recipient=Practitioner/p3"); !slices.Equal(got, []string{"Practitioner/p2"}) {
		t.Errorf("client's _has gives %v", got)
	}
}
