package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hearth-fhir/hearth/store"
)

// testFindTokens checks token matching by system and code, and that the index
// follows the current version: replaced on update, gone on delete.
func testFindTokens(t *testing.T, s store.Store) {
	t.Parallel()
	tenant := newTenant(t)
	id := func(system, code string) store.Token {
		return store.Token{Param: "identifier", System: system, Code: code}
	}
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p1", 1, at(0), ""),
		Tokens: []store.Token{id("http://a", "123"), id("http://b", "456"), {Param: "gender", Code: "female"}}})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p2", 1, at(0), ""),
		Tokens: []store.Token{id("http://b", "123"), id("http://b", "123")}}) // a duplicate row
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p3", 1, at(0), ""),
		Tokens: []store.Token{id("", "123")}})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p4", 1, at(0), ""),
		Tokens: []store.Token{id("http://a", "123"), id("http://a", "gone")}})
	mustPut(t, s, tenant, store.Write{Record: marker("Patient", "p4", 2, at(1)), PrevVersion: 1,
		Tokens: []store.Token{id("http://a", "123")}}) // ignored for deletes
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p5", 1, at(0), ""),
		Tokens: []store.Token{id("http://a", "777")}})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p5", 2, at(1), ""), PrevVersion: 1,
		Tokens: []store.Token{id("http://a", "888")}})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p6", 1, at(0), ""),
		Tokens: []store.Token{id("http://a", "cleared")}})
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "p6", 2, at(1), ""), PrevVersion: 1})
	mustPut(t, s, tenant, store.Write{Record: rec("Observation", "o1", 1, at(0), ""),
		Tokens: []store.Token{id("http://a", "123")}})

	q := func(system, code string) store.TokenQuery {
		return store.TokenQuery{Type: "Patient", Param: "identifier", System: system, Code: code}
	}
	anySystem := func(code string) store.TokenQuery {
		return store.TokenQuery{Type: "Patient", Param: "identifier", AnySystem: true, Code: code}
	}
	limit := func(tq store.TokenQuery, n int) store.TokenQuery { tq.Limit = n; return tq }
	for _, tc := range []struct {
		name string
		q    store.TokenQuery
		want []string // sorted ascending
	}{
		{"system and code", q("http://a", "123"), []string{"p1"}},
		{"other system", q("http://b", "123"), []string{"p2"}},
		{"code in any system", anySystem("123"), []string{"p1", "p2", "p3"}},
		{"code with no system", q("", "123"), []string{"p3"}},
		{"second token of a resource", q("http://b", "456"), []string{"p1"}},
		{"unknown system", q("http://c", "123"), nil},
		{"codes are case-sensitive", anySystem("FEMALE"), nil},
		{"other param", store.TokenQuery{Type: "Patient", Param: "gender", AnySystem: true, Code: "female"}, []string{"p1"}},
		{"param must match", store.TokenQuery{Type: "Patient", Param: "gender", AnySystem: true, Code: "123"}, nil},
		{"type must match", store.TokenQuery{Type: "Observation", Param: "identifier", AnySystem: true, Code: "123"}, []string{"o1"}},
		{"deleted resource excluded", anySystem("gone"), nil},
		{"replaced token gone", anySystem("777"), nil},
		{"replacement token found", anySystem("888"), []string{"p5"}},
		{"tokens cleared by update", anySystem("cleared"), nil},
		{"limit", limit(anySystem("123"), 2), []string{"p1", "p2"}},
		{"limit above matches", limit(anySystem("123"), 10), []string{"p1", "p2", "p3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := findTokens(t, s, tenant, tc.q)
			if !slices.Equal(got, tc.want) {
				t.Errorf("FindTokens = %v, want %v", got, tc.want)
			}
		})
	}

	// Many tokens on one resource are all kept.
	var many []store.Token
	for i := range 300 {
		many = append(many, id("urn:many", fmt.Sprint(i)))
	}
	mustPut(t, s, tenant, store.Write{Record: rec("Patient", "many", 1, at(0), ""), Tokens: many})
	for _, code := range []string{"0", "150", "299"} {
		if got := findTokens(t, s, tenant, q("urn:many", code)); !slices.Equal(got, []string{"many"}) {
			t.Errorf("token %s of 300 finds %v", code, got)
		}
	}
}
