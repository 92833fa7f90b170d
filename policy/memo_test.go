package policy

import (
	"context"
	"testing"
	"time"
)

// The default policy is pure, so its decisions are memoized, and a
// remembered decision is the one evaluation gives, input by input.
func TestMemoGivesTheEvaluatedDecision(t *testing.T) {
	ctx := context.Background()
	c := newEngine(t).current.Load()
	if c.memo == nil {
		t.Fatal("the default policy is not memoized")
	}
	inputs := []Input{
		{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m1"}, Resource: toP1},
		{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others},
		{Principal: client, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others},
		{Principal: practitioner, Interaction: Interaction{Type: "search-type", ResourceType: "Communication"}},
	}
	for round := range 2 {
		for i, in := range inputs {
			in.Request = Request{Time: time.Unix(int64(round), 0)} // request facts are not in the key
			got, err := c.decide(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := c.evaluate(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Allow != want.Allow || got.Reason != want.Reason || len(got.SearchConstraints) != len(want.SearchConstraints) {
				t.Errorf("round %d input %d: memo %+v, evaluation %+v", round, i, got, want)
			}
		}
	}
	if allowed, _ := c.decide(ctx, inputs[0]); !allowed.Allow {
		t.Error("practitioner may not read a message to them")
	}
	if denied, _ := c.decide(ctx, inputs[1]); denied.Allow {
		t.Error("the memo let a practitioner read another's message")
	}
}

// Inputs that differ anywhere get different keys.
func TestMemoKeyCoversTheInput(t *testing.T) {
	base := Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m1"}, Resource: toP1}
	variants := map[string]func(*Input){
		"tenant":   func(in *Input) { in.Principal.Tenant = "t2" },
		"role":     func(in *Input) { in.Principal.Roles = []string{"staff"} },
		"roles":    func(in *Input) { in.Principal.Roles = append([]string{}, "practitioner", "admin") },
		"verified": func(in *Input) { in.Principal.Verified = !in.Principal.Verified },
		"scopes":   func(in *Input) { in.Principal.Scopes = []string{"user/*.rs"} },
		"launch":   func(in *Input) { in.Principal.LaunchPatient = "p9" },
		"type":     func(in *Input) { in.Interaction.Type = "vread" },
		"id":       func(in *Input) { in.Interaction.ID = "m2" },
		"resource": func(in *Input) { in.Resource = others },
		"current":  func(in *Input) { in.Current = toP1 },
		// Field boundaries: moving a byte from one field to the next.
		"boundary": func(in *Input) { in.Principal.Subject += "x"; in.Principal.Kind = in.Principal.Kind[1:] },
	}
	k := base.key()
	for name, change := range variants {
		in := base
		change(&in)
		if in.key() == k {
			t.Errorf("%s: same key", name)
		}
	}
}

// A policy that reads request facts or calls a non-deterministic built-in
// is not memoized: the same input may get another decision later.
func TestImpurePolicyIsNotMemoized(t *testing.T) {
	for name, rule := range map[string]string{
		"request time": `grants contains {"type": "Basic", "actions": {"read"}, "where": [], "reason": "x"} if input.request.time > "2020"`,
		"whole input":  `grants contains {"type": "Basic", "actions": {"read"}, "where": [], "reason": "x"} if { x := input; x.request.address == "1" }`,
		"clock":        `grants contains {"type": "Basic", "actions": {"read"}, "where": [], "reason": "x"} if time.now_ns() > 0`,
	} {
		dir := t.TempDir()
		write(t, dir, "extra.rego", "package hearth.authz\n"+rule+"\n")
		e := newEngine(t, WithDir(dir))
		if e.current.Load().memo != nil {
			t.Errorf("%s: memoized", name)
		}
	}
}

// The default policy does not read the interaction's id, so a create's new
// id does not make a new memo key; a policy that reads it keys by it, and
// its decisions for two ids stay apart.
func TestMemoKeysTheIDOnlyWhenRead(t *testing.T) {
	ctx := context.Background()
	if newEngine(t).current.Load().keyID {
		t.Error("the default policy is keyed by the interaction's id")
	}
	dir := t.TempDir()
	write(t, dir, "extra.rego", "package hearth.authz\n"+
		`deny contains "reserved id" if input.interaction.id == "reserved"`+"\n")
	c := newEngine(t, WithDir(dir)).current.Load()
	if c.memo == nil || !c.keyID {
		t.Fatalf("memo %v, keyed by id %v: want both", c.memo != nil, c.keyID)
	}
	for _, id := range []string{"free", "reserved", "free", "reserved"} {
		d, err := c.decide(ctx, Input{Principal: client, Interaction: Interaction{Type: "read", ResourceType: "Basic", ID: id}})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != (id == "free") {
			t.Errorf("id %s: allow %v", id, d.Allow)
		}
	}
}
