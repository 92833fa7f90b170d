package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/store"
)

// balp is the part of an AuditEvent the scripted test checks.
type balp struct {
	Subtype []struct{ Code string } `json:"subtype"`
	Action  string                  `json:"action"`
	Outcome string                  `json:"outcome"`
	Agent   []struct {
		Who *struct {
			Reference  string `json:"reference"`
			Identifier *struct{ Value string }
		} `json:"who"`
		Network *struct{ Address string } `json:"network"`
	} `json:"agent"`
	Entity []struct {
		What *struct{ Reference string } `json:"what"`
		Role struct{ Code string }       `json:"role"`
	} `json:"entity"`
}

func (b balp) summary() string {
	var ents []string
	for _, e := range b.Entity {
		if e.What != nil {
			ents = append(ents, e.Role.Code+":"+e.What.Reference)
		}
	}
	return fmt.Sprintf("%s %s %s [%s]", b.Subtype[0].Code, b.Action, b.Outcome, strings.Join(ents, " "))
}

// A scripted sequence of interactions, allowed, denied and failing, leaves
// exactly the expected AuditEvents, in order, with the BALP fields set.
func TestScriptedSequenceIsAudited(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, engine.DefaultConfig())
	prac := w.user(t, "Practitioner/p1", "practitioner")
	client := w.client(t)
	msg := func(id, sender, recipient string) []byte {
		return []byte(`{"resourceType":"Communication","id":"` + id + `","status":"completed","sender":{"reference":"` + sender +
			`"},"recipient":[{"reference":"` + recipient + `"}],"subject":{"reference":"Patient/pat1"}}`)
	}
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error {
			_, err := w.eng.Update(ctx, client, "Communication", "m1", msg("m1", "Practitioner/p2", "Practitioner/p1"), engine.UpdateOptions{})
			return err
		}, "create C 0 [4:Communication/m1/_history/1 1:Patient/pat1]"},
		{func() error {
			_, err := w.eng.Update(ctx, client, "Communication", "m2", msg("m2", "Practitioner/p2", "Practitioner/p3"), engine.UpdateOptions{})
			return err
		}, "create C 0 [4:Communication/m2/_history/1 1:Patient/pat1]"},
		{func() error { _, err := w.eng.Read(ctx, prac, "Communication", "m1"); return err },
			"read R 0 [4:Communication/m1/_history/1 1:Patient/pat1]"},
		{func() error { _, err := w.eng.Read(ctx, prac, "Communication", "m2"); return err },
			"read R 4 [4:Communication/m2]"},
		{func() error { _, err := w.eng.VRead(ctx, prac, "Communication", "m1", 1); return err },
			"vread R 0 [4:Communication/m1/_history/1 1:Patient/pat1]"},
		{func() error {
			_, err := w.eng.Update(ctx, prac, "Communication", "m2", msg("m2", "Practitioner/p1", "Practitioner/p3"), engine.UpdateOptions{})
			return err
		}, "update U 4 [4:Communication/m2]"},
		{func() error {
			_, err := w.eng.Patch(ctx, client, "Communication", "m1", []byte(`[{"op":"replace","path":"/status","value":"stopped"}]`), engine.UpdateOptions{})
			return err
		}, "patch U 0 [4:Communication/m1/_history/2 1:Patient/pat1]"},
		{func() error {
			_, err := w.eng.Delete(ctx, client, "Communication", "m2", engine.UpdateOptions{})
			return err
		},
			"delete D 0 [4:Communication/m2/_history/2]"},
		{func() error {
			_, err := w.eng.History(ctx, client, engine.HistoryRequest{Type: "Communication"})
			return err
		},
			"history-type E 0 []"},
		{func() error {
			_, err := w.eng.Create(ctx, client, "Communication", []byte(`{"resourceType":"Communication","status":"bogus"}`), engine.CreateOptions{})
			return err
		}, "create C 4 []"},
		{func() error {
			_, err := w.eng.Transaction(ctx, client, []engine.BundleEntry{
				{Method: "PUT", URL: "Communication/m3", Resource: msg("m3", "Practitioner/p1", "Practitioner/p2")},
				{Method: "GET", URL: "Communication/m1"},
			})
			return err
		}, "transaction E 0 []|create C 0 [4:Communication/m3/_history/1 1:Patient/pat1]|read R 0 [4:Communication/m1/_history/2 1:Patient/pat1]"},
		{func() error {
			_, err := w.eng.Batch(ctx, prac, []engine.BundleEntry{{Method: "GET", URL: "Communication/m3"}, {Method: "GET", URL: "Communication/m1"}})
			return err
		}, "read R 0 [4:Communication/m3/_history/1 1:Patient/pat1]|read R 0 [4:Communication/m1/_history/2 1:Patient/pat1]|batch E 0 []"},
		{func() error {
			_, err := w.eng.Create(ctx, prac, "AuditEvent", []byte(`{"resourceType":"AuditEvent"}`), engine.CreateOptions{})
			return err
		}, "create C 4 []"},
	}
	var want []string
	for _, s := range steps {
		s.do() // outcomes are checked through the AuditEvents
		want = append(want, strings.Split(s.want, "|")...)
	}
	entries, err := w.st.ScanAudit(ctx, tenant, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Errorf("%d AuditEvents, want %d", len(entries), len(want))
	}
	for i, e := range entries {
		var b balp
		if err := json.Unmarshal(e.Body, &b); err != nil {
			t.Fatal(err)
		}
		got := b.summary()
		if i >= len(want) || got != want[i] {
			w := "(none)"
			if i < len(want) {
				w = want[i]
			}
			t.Errorf("AuditEvent %d = %s, want %s", i+1, got, w)
		}
		// Agents: the practitioner's events name them; every event names
		// the client's network address.
		last := b.Agent[len(b.Agent)-2]
		if last.Network == nil || (last.Network.Address != "192.0.2.10" && last.Network.Address != "192.0.2.20") {
			t.Errorf("AuditEvent %d: client agent %+v", i+1, last)
		}
		if last.Network.Address == "192.0.2.10" && (b.Agent[0].Who == nil || b.Agent[0].Who.Reference != "Practitioner/p1") {
			t.Errorf("AuditEvent %d: user agent %+v", i+1, b.Agent[0].Who)
		}
	}
	if rep, err := audit.Verify(ctx, w.st, tenant); err != nil || rep.Break != nil || rep.Checked != int64(len(want)) {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}
