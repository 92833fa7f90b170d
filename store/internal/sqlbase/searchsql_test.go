package sqlbase

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// TestSearchSQLBindsEveryValue compiles searches whose values try to break
// out of SQL and checks that no value reaches the statement text: every
// one is a bound parameter, and every placeholder has its argument.
func TestSearchSQLBindsEveryValue(t *testing.T) {
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	evil := "x' OR '1'='1"
	enc := strings.NewReplacer("'", "%27", " ", "%20", "=", "%3D").Replace(evil)
	for _, c := range []struct{ typ, query string }{
		{"Patient", "family=" + enc + "&given:exact=" + enc + "&name:contains=" + enc},
		{"Patient", "identifier=" + enc + "%7C" + enc + "&gender:not=" + enc + "&_id=" + enc},
		{"Observation", "subject:Patient.organization.name=" + enc + "&_has:Provenance:target:agent=Practitioner/x"},
		{"Observation", "code:text=" + enc + "&value-quantity=5%7C" + enc + "%7C" + enc + "&date=ge2020&_lastUpdated=lt2021"},
		{"Questionnaire", "url:above=http://a/" + enc + "&url:below=" + enc},
		{"Patient", "family=a&_sort=-family,birthdate,_lastUpdated"},
	} {
		t.Run(c.typ+"?"+c.query, func(t *testing.T) {
			q, err := reg.Parse(c.typ, c.query, search.ParseOptions{Now: time.Now(), Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			sq := store.SearchQuery{Types: q.Types, Where: q.Criteria, Sort: q.Sort, Count: 20,
				Constraints: []store.Constraint{{Type: c.typ, Where: q.Criteria[:1]}, {Type: "Patient", Where: q.Criteria[:1]},
					{Type: "Group", Deny: true}}}
			if len(q.Sort) > 0 {
				sq.Cursor = &store.Cursor{ID: evil, Type: c.typ, Keys: make([]any, len(q.Sort))}
				for i, k := range q.Sort {
					sq.Cursor.Keys[i] = evil
					if k.Param.Type == search.TypeDate {
						sq.Cursor.Keys[i] = int64(1)
					}
				}
			}
			for _, d := range []Dialect{
				{Placeholder: func(n int) string { return fmt.Sprintf("$%d", n) }},
				{Placeholder: func(n int) string { return fmt.Sprintf("?%d", n) }},
			} {
				sql, args, err := pageSQL(d, evil, sq, sq.Cursor, nil)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(sql, "OR '1'") || strings.Contains(sql, evil) {
					t.Fatalf("a value is in the statement text: %s", sql)
				}
				highest := 0
				for _, m := range regexp.MustCompile(`[$?](\d+)`).FindAllStringSubmatch(sql, -1) {
					var n int
					fmt.Sscan(m[1], &n)
					highest = max(highest, n)
				}
				if highest != len(args) {
					t.Fatalf("highest placeholder %d, %d arguments", highest, len(args))
				}
			}
		})
	}
}

// TestForgedCursor checks that a cursor whose values do not fit the sort
// keys is refused before it reaches the database.
func TestForgedCursor(t *testing.T) {
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	q, err := reg.Parse("Patient", "_sort=birthdate,family", search.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := Dialect{Placeholder: func(n int) string { return fmt.Sprintf("$%d", n) }}
	sq := store.SearchQuery{Types: q.Types, Sort: q.Sort, Count: 10}
	for _, c := range []struct {
		keys []any
		ok   bool
	}{
		{[]any{int64(5), "smith"}, true},
		{[]any{nil, nil}, true},
		{[]any{"5", "smith"}, false},
		{[]any{int64(5), int64(1)}, false},
		{[]any{int64(5)}, false},
		{[]any{true, "x"}, false},
	} {
		_, _, err := pageSQL(d, "t", sq, &store.Cursor{Keys: c.keys, ID: "x", Type: "Patient"}, nil)
		if (err == nil) != c.ok {
			t.Errorf("cursor %v: %v, want ok=%v", c.keys, err, c.ok)
		}
	}
}
