package policy

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestRego runs the Rego unit tests of the default bundle (rego/*_test.rego).
func TestRego(t *testing.T) {
	modules := map[string]*ast.Module{}
	err := fs.WalkDir(defaultBundle, "rego", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(defaultBundle, path)
		if err != nil {
			return err
		}
		m, err := ast.ParseModule(path, string(src))
		if err != nil {
			return err
		}
		modules[path] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tester.NewRunner().SetModules(modules).EnableTracing(false).RunTests(context.Background(), nil)
	if err != nil {
		t.Fatalf("compiling the Rego tests: %v", err)
	}
	n := 0
	for r := range ch {
		n++
		t.Run(r.Name, func(t *testing.T) {
			switch {
			case r.Error != nil:
				t.Errorf("%s: error: %v", r.Location, r.Error)
			case r.Fail:
				t.Errorf("%s: failed", r.Location)
			}
		})
	}
	if n < 30 {
		t.Errorf("ran %d Rego tests; the default bundle has more", n)
	}
}

func newEngine(t testing.TB, opts ...Option) *Engine {
	t.Helper()
	e, err := New(context.Background(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	practitioner = Principal{Tenant: "t1", Subject: "u1", Kind: KindUser, Roles: []string{"practitioner"},
		FhirUser: "Practitioner/p1", Organization: "Organization/o1", Verified: true}
	client = Principal{Tenant: "t1", Subject: "c1", ClientID: "c1", Kind: KindClient, Scopes: []string{"system/*.cruds"}}
	toP1   = json.RawMessage(`{"resourceType":"Communication","id":"m1","status":"completed",` +
		`"sender":{"reference":"Practitioner/p2"},"recipient":[{"reference":"Practitioner/p1"}]}`)
	others = json.RawMessage(`{"resourceType":"Communication","id":"m2","status":"completed",` +
		`"sender":{"reference":"Practitioner/p2"},"recipient":[{"reference":"Practitioner/p3"}]}`)
)

func TestDecide(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		in     Input
		allow  bool
		reason string
	}{
		{"client reads", Input{Principal: client, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others},
			true, "system client: SMART scopes decide"},
		{"practitioner reads own", Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m1"}, Resource: toP1},
			true, "practitioners read their own and their organisation's messages"},
		{"practitioner reads others", Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others},
			false, "no rule lets this caller read Communication"},
		{"no tenant", Input{Principal: Principal{Kind: KindClient}, Interaction: Interaction{Type: "read", ResourceType: "Patient", ID: "x"}},
			false, "no tenant in credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := e.Decide(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow != tc.allow || d.Reason != tc.reason {
				t.Errorf("Decide = %v %q, want %v %q", d.Allow, d.Reason, tc.allow, tc.reason)
			}
		})
	}
}

func TestSearchConstraints(t *testing.T) {
	e := newEngine(t)
	d, err := e.Decide(context.Background(), Input{Principal: practitioner, Interaction: Interaction{Type: "search-type", ResourceType: "Communication"}})
	if err != nil || !d.Allow {
		t.Fatalf("Decide = %+v, %v", d, err)
	}
	c, ok := d.SearchConstraints.For("Communication")
	want := []Clause{{
		{Param: "recipient", Values: []string{"Organization/o1", "Practitioner/p1"}},
		{Param: "sender", Values: []string{"Organization/o1", "Practitioner/p1"}},
	}}
	if !ok || !reflect.DeepEqual(c.All, want) {
		t.Errorf("Communication constraint = %+v (%v), want %+v", c.All, ok, want)
	}
	// The directory is open: no clauses. Clinical types are closed.
	if c, ok := d.SearchConstraints.For("Practitioner"); !ok || len(c.All) != 0 {
		t.Errorf("Practitioner constraint = %+v, %v; want open", c, ok)
	}
	if _, ok := d.SearchConstraints.For("Observation"); ok {
		t.Errorf("Observation is selectable by a practitioner")
	}
	if _, ok := d.SearchConstraints.For("AuditEvent"); ok {
		t.Errorf("AuditEvent is selectable by a practitioner")
	}
	// A system client searches everything its scopes allow.
	d, err = e.Decide(context.Background(), Input{Principal: client, Interaction: Interaction{Type: "search-system"}})
	if err != nil || !d.Allow {
		t.Fatalf("client Decide = %+v, %v", d, err)
	}
	if c, ok := d.SearchConstraints.For("Observation"); !ok || len(c.All) != 0 {
		t.Errorf("client Observation constraint = %+v, %v; want open", c, ok)
	}
	// No constraints outside searches.
	d, _ = e.Decide(context.Background(), Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m1"}, Resource: toP1})
	if d.SearchConstraints != nil {
		t.Errorf("a read got search constraints %+v", d.SearchConstraints)
	}
}

func TestAnyOf(t *testing.T) {
	m := func(p string, v ...string) Match { return Match{Param: p, Values: v} }
	tests := []struct {
		name   string
		grants []grant
		want   []Clause
	}{
		{"one grant", []grant{{"X", []Clause{{m("a", "1")}}}}, []Clause{{m("a", "1")}}},
		{"open wins", []grant{{"X", []Clause{{m("a", "1")}}}, {"X", nil}}, nil},
		{"or of single clauses merges", []grant{{"X", []Clause{{m("a", "1")}}}, {"X", []Clause{{m("a", "2"), m("b", "3")}}}},
			[]Clause{{m("a", "1", "2"), m("b", "3")}}},
		{"distributes", []grant{{"X", []Clause{{m("a", "1")}, {m("b", "2")}}}, {"X", []Clause{{m("c", "3")}}}},
			[]Clause{{m("a", "1"), m("c", "3")}, {m("b", "2"), m("c", "3")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := anyOf(tc.grants)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("anyOf = %+v, want %+v", got, tc.want)
			}
		})
	}
	many := make([]grant, 7)
	for i := range many {
		many[i] = grant{"X", []Clause{{m("a", string(rune('0'+i)))}, {m("b", string(rune('0'+i)))}}}
	}
	if _, err := anyOf(many); err == nil {
		t.Error("2^7 clauses accepted")
	}
}

func TestMalformedDecisionRefused(t *testing.T) {
	for _, v := range []any{
		nil, "yes", map[string]any{"allow": "true", "reason": ""},
		map[string]any{"allow": true},
		map[string]any{"allow": true, "reason": "", "hidden_fields": "x"},
		map[string]any{"allow": true, "reason": "", "search_grants": []any{map[string]any{"type": "X", "where": []any{[]any{}}}}},
	} {
		if _, err := decisionOf(v); err == nil {
			t.Errorf("decisionOf(%v) accepted", v)
		}
	}
}

// A directory adds rules to the default policy, or replaces a default file
// by its name; a broken policy is refused and the old one stays.
func TestPolicyDir(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := newEngine(t, WithDir(dir))
	read := Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others}
	check := func(want bool) {
		t.Helper()
		d, err := e.Decide(ctx, read)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != want {
			t.Fatalf("Allow = %v (%s), want %v", d.Allow, d.Reason, want)
		}
	}
	check(false)

	write(t, dir, "extra.rego", `package hearth.authz
grants contains {"type": "Communication", "actions": {"read"}, "where": [], "reason": "all messages"} if has_role("practitioner")
`)
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	check(true)

	write(t, dir, "extra.rego", `package hearth.authz
grants contains {"type": "Communication" if`)
	if err := e.Reload(ctx); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Fatalf("Reload of a syntax error = %v", err)
	}
	check(true) // the old policy stays

	// Compiles, but no longer decides.
	write(t, dir, "extra.rego", `package hearth.authz
decision := 1`)
	if err := e.Reload(ctx); err == nil {
		t.Fatal("Reload of a conflicting decision rule succeeded")
	}
	check(true)

	// A file named like a default file replaces it.
	os.Remove(filepath.Join(dir, "extra.rego"))
	write(t, dir, "hearth.rego", `package hearth.authz
decision := {"allow": false, "reason": "closed", "hidden_fields": [], "read_only_fields": [], "search_grants": []}`)
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ := e.Decide(ctx, Input{Principal: client, Interaction: Interaction{Type: "read", ResourceType: "Patient", ID: "x"}})
	if d.Allow || d.Reason != "closed" {
		t.Errorf("replaced policy decided %+v", d)
	}
}

func TestNewRefusesBrokenDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bad.rego", "package hearth.authz\nallow if {")
	if _, err := New(context.Background(), WithDir(dir)); err == nil {
		t.Fatal("New accepted a broken policy")
	}
}

func TestWatchReloads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	e := newEngine(t, WithDir(dir))
	go e.Watch(ctx, 10*time.Millisecond)
	read := Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others}
	waitFor := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if d, err := e.Decide(ctx, read); err == nil && d.Allow == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("policy did not reach Allow=%v", want)
	}
	write(t, dir, "extra.rego", `package hearth.authz
grants contains {"type": "Communication", "actions": {"read"}, "where": [], "reason": "all"} if is_user`)
	waitFor(true)
	write(t, dir, "broken.rego", "package hearth.authz\nallow if {")
	time.Sleep(100 * time.Millisecond)
	waitFor(true) // refused; the previous policy stays
	os.Remove(filepath.Join(dir, "broken.rego"))
	os.Remove(filepath.Join(dir, "extra.rego"))
	waitFor(false)
}

func write(t testing.TB, dir, name, src string) {
	t.Helper()
	// A distinct mtime per write, even on file systems with coarse clocks.
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Duration(len(src)) * time.Millisecond)
	os.Chtimes(path, future, future)
}
