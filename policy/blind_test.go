package policy

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

// The default policy's resource_blind holds: wherever it says yes, the
// evaluated decision is the same for every resource and current version,
// and for none. It must say yes for a system client's create (the case it
// exists for) and no where a grant's where clause reads the resource.
func TestResourceBlindHolds(t *testing.T) {
	ctx := context.Background()
	c := newEngine(t).current.Load()
	if c.blind == nil {
		t.Fatal("the default policy has no resource_blind shortcut")
	}
	user := func(roles ...string) Principal {
		return Principal{Tenant: "t1", Subject: "u1", Kind: KindUser, Roles: roles, FhirUser: "Practitioner/p1",
			Organization: "Organization/o1", Verified: true}
	}
	patient := Principal{Tenant: "t1", Subject: "u2", Kind: KindUser, Roles: []string{"patient"}, FhirUser: "Patient/pt1"}
	launch := user("clinician")
	launch.LaunchPatient = "pt1"
	unverified := user("practitioner")
	unverified.Verified = false
	principals := map[string]Principal{
		"client": client, "bot": {Tenant: "t1", Subject: "b1", Kind: KindBot},
		"practitioner": practitioner, "unverified": unverified, "staff": user("staff"), "admin": user("admin"),
		"auditor": user("auditor"), "clinician": user("clinician"), "launch": launch, "patient": patient,
		"no roles": user(), "no tenant": {Subject: "c1", Kind: KindClient}, "odd kind": {Tenant: "t1", Kind: "robot"},
	}
	patientBody := json.RawMessage(`{"resourceType":"Patient","id":"pt1"}`)
	obs := json.RawMessage(`{"resourceType":"Observation","id":"o1","subject":{"reference":"Patient/pt1"}}`)
	self := json.RawMessage(`{"resourceType":"Practitioner","id":"p1","active":true}`)
	qr := json.RawMessage(`{"resourceType":"QuestionnaireResponse","id":"r1","author":{"reference":"Practitioner/p1"},"subject":{"reference":"Patient/pt1"}}`)
	bodies := []json.RawMessage{nil, toP1, others, patientBody, obs, self, qr, json.RawMessage(`{}`)}
	types := []string{"Communication", "Patient", "Observation", "Practitioner", "QuestionnaireResponse", "Questionnaire", "AuditEvent", "Basic"}
	interactions := []string{"read", "vread", "history-instance", "create", "update", "patch", "delete", "search-type", "operation"}

	blindSeen, sightedSeen := map[string]bool{}, map[string]bool{}
	for pname, p := range principals {
		for _, typ := range types {
			for _, it := range interactions {
				bare := Input{Principal: p, Interaction: Interaction{Type: it, ResourceType: typ, ID: "x"}}
				blind, err := c.isBlind(ctx, bare)
				if err != nil {
					t.Fatal(err)
				}
				if !blind {
					sightedSeen[pname+" "+it+" "+typ] = true
					continue
				}
				blindSeen[pname+" "+it+" "+typ] = true
				want, err := c.evaluate(ctx, bare)
				if err != nil {
					t.Fatal(err)
				}
				// Each body as the resource, then as the current version.
				for i := range 2 * len(bodies) {
					in := bare
					if i < len(bodies) {
						in.Resource = bodies[i]
					} else {
						in.Resource, in.Current = toP1, bodies[i-len(bodies)]
					}
					got, err := c.evaluate(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s %s %s: resource_blind, but resource %s current %s decide %+v, none %+v", pname, it, typ, in.Resource, in.Current, got, want)
					}
					if viaMemo, err := c.decide(ctx, in); err != nil || !reflect.DeepEqual(viaMemo, want) {
						t.Fatalf("%s %s %s: decide gave %+v (%v), evaluation %+v", pname, it, typ, viaMemo, err, want)
					}
				}
			}
		}
	}
	for _, must := range []string{"client create Communication", "client update Observation", "admin update Practitioner"} {
		if !blindSeen[must] {
			t.Errorf("%s: not resource_blind", must)
		}
	}
	for _, must := range []string{"practitioner read Communication", "practitioner update Practitioner", "patient read Observation", "launch create Observation"} {
		if !sightedSeen[must] {
			t.Errorf("%s: resource_blind, though a grant's where reads the resource", must)
		}
	}
}

// Where the decision depends on the resource, the shortcut stays out of
// the way: a practitioner reads the message to them and not another's.
func TestResourceBlindKeepsResourceDecisions(t *testing.T) {
	ctx := context.Background()
	c := newEngine(t).current.Load()
	read := func(body json.RawMessage) bool {
		d, err := c.decide(ctx, Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m"}, Resource: body})
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	for range 2 { // the second round answers from the memos
		if !read(toP1) || read(others) {
			t.Fatalf("practitioner: message to them %v, another's %v", read(toP1), read(others))
		}
	}
}

// Any file in the policy directory turns the shortcut off: an added rule
// could read the resource where the default policy does not.
func TestPolicyDirTurnsResourceBlindOff(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "extra.rego", "package hearth.authz\n"+
		`deny contains "no drafts" if input.resource.status == "preparation"`+"\n")
	c := newEngine(t, WithDir(dir)).current.Load()
	if c.memo == nil || c.blind != nil {
		t.Fatalf("memo %v, blind %v: want a memo without the shortcut", c.memo != nil, c.blind != nil)
	}
	draft := json.RawMessage(`{"resourceType":"Communication","status":"preparation"}`)
	d, err := c.decide(context.Background(), Input{Principal: client, Interaction: Interaction{Type: "create", ResourceType: "Communication"}, Resource: draft})
	if err != nil {
		t.Fatal(err)
	}
	if d.Allow {
		t.Error("the added deny rule did not refuse the draft")
	}
}
