package engine_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// searchPatients are told apart by their tag; their encrypted elements
// share values so that searches have several answers.
var searchPatients = []string{
	`{"resourceType":"Patient","meta":{"tag":[{"system":"urn:test","code":"p1"}]},
		"identifier":[{"system":"urn:mrn","value":"MRN-QQ12345"}],"name":[{"family":"Zyxchalmers","given":["Peter","James"]}],
		"telecom":[{"system":"phone","value":"555-0101"},{"system":"email","value":"peter@qq.example.org"}],
		"gender":"male","birthDate":"1974-12-25","address":[{"city":"Pleasantvillezz","postalCode":"3999"}]}`,
	`{"resourceType":"Patient","meta":{"tag":[{"system":"urn:test","code":"p2"}]},
		"identifier":[{"system":"urn:mrn","value":"MRN-QQ67890"}],"name":[{"family":"Zyxchalmers","given":["Jane"]}],
		"telecom":[{"system":"phone","value":"555-0202"}],"gender":"female","birthDate":"1974-03-01",
		"address":[{"city":"Erewhonzz"}]}`,
	`{"resourceType":"Patient","meta":{"tag":[{"system":"urn:test","code":"p3"}]},
		"identifier":[{"system":"urn:other","value":"MRN-QQ12345"}],"name":[{"family":"Müllerzz","given":["Zoë"]}],
		"telecom":[{"system":"phone","value":"555-0101"}],"gender":"other","birthDate":"1990",
		"address":[{"city":"Pleasantvillezz"}]}`,
}

// TestSearchEncrypted runs the same searches on an encrypted and an
// unencrypted engine holding the same resources: equality on identifier
// and telecom, default and :exact string search, birthdate by year, month
// and day, chains, and :not all answer alike; what tokens cannot answer is
// refused with 400; the raw database of the encrypted one holds none of
// the values, index tables and the audit log of the searches included.
func TestSearchEncrypted(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			open := func() backend {
				b := sqliteBackend(t)
				if name == "postgres" {
					b = postgresBackend(t)
				}
				if err := b.st.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				return b
			}
			encB, plainB := open(), open()
			var fails failures
			engines := map[string]*engine.Engine{
				"encrypted": newEngine(t, encB.st, newRing(t, encB.st), &fails),
				"plain":     newEngine(t, plainB.st, nil, nil),
			}
			p := principal(t, "clinic")
			for _, e := range engines {
				var ids []string
				for _, body := range searchPatients {
					res, err := e.Create(ctx, p, "Patient", []byte(body), engine.CreateOptions{})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, res.Record.ID)
				}
				for i, subject := range []string{ids[0], ids[2]} {
					body := `{"resourceType":"Communication","meta":{"tag":[{"system":"urn:test","code":"c` + string(rune('1'+i)) + `"}]},
						"status":"completed","subject":{"reference":"Patient/` + subject + `"},"payload":[{"contentString":"hello"}]}`
					if _, err := e.Create(ctx, p, "Communication", []byte(body), engine.CreateOptions{}); err != nil {
						t.Fatal(err)
					}
				}
			}
			search := func(e *engine.Engine, typ, q string) ([]string, error) {
				res, err := e.Search(ctx, p, engine.SearchRequest{Type: typ, Query: q})
				if err != nil {
					return nil, err
				}
				var tags []string
				for _, r := range res.Page.Records {
					var body struct {
						Meta struct{ Tag []struct{ Code string } }
					}
					if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Meta.Tag) == 0 {
						t.Fatalf("%s?%s: result %s", typ, q, r.Body)
					}
					tags = append(tags, body.Meta.Tag[0].Code)
				}
				slices.Sort(tags)
				return tags, nil
			}
			for _, tc := range []struct {
				typ, q string
				want   string
			}{
				{"Patient", "identifier=urn:mrn|MRN-QQ12345", "p1"},
				{"Patient", "identifier=MRN-QQ12345", "p1 p3"},
				{"Patient", "identifier=|MRN-QQ12345", ""},
				{"Patient", "identifier=urn:mrn|", "p1 p2"},
				{"Patient", "identifier=urn:mrn|MRN-QQ12345,urn:mrn|MRN-QQ67890", "p1 p2"},
				{"Patient", "identifier:not=urn:mrn|MRN-QQ12345", "p2 p3"},
				{"Patient", "phone=555-0101", "p1 p3"},
				{"Patient", "telecom=phone|555-0101", "p1 p3"},
				{"Patient", "email=peter@qq.example.org", "p1"},
				{"Patient", "telecom=555-0202", "p2"},
				{"Patient", "name=zyx", "p1 p2"},
				{"Patient", "name=ZYXCHALMERS", "p1 p2"},
				{"Patient", "family=zyxchalm", "p1 p2"},
				{"Patient", "family:exact=Zyxchalmers", "p1 p2"},
				{"Patient", "family:exact=zyxchalmers", ""},
				{"Patient", "given=pet", "p1"},
				{"Patient", "name=mullerzz", "p3"},
				{"Patient", "name=Müll", "p3"},
				{"Patient", "given:exact=Zoë", "p3"},
				{"Patient", "family=zyx&given=jane", "p2"},
				{"Patient", "birthdate=1974", "p1 p2"},
				{"Patient", "birthdate=1974-12", "p1"},
				{"Patient", "birthdate=1974-12-25", "p1"},
				{"Patient", "birthdate=eq1990", "p3"},
				{"Patient", "birthdate=1990-01", ""},
				{"Patient", "address-city=pleasant", "p1 p3"},
				{"Patient", "address=erewhon", "p2"},
				{"Patient", "gender=female", "p2"},
				{"Patient", "name:missing=false", "p1 p2 p3"},
				{"Communication", "subject:Patient.family=zyx", "c1"},
				{"Communication", "subject:Patient.phone=555-0101", "c1 c2"},
				{"Patient", "_has:Communication:subject:status=completed&birthdate=1990", "p3"},
			} {
				for which, e := range engines {
					got, err := search(e, tc.typ, tc.q)
					if err != nil {
						t.Errorf("%s %s?%s: %v", which, tc.typ, tc.q, err)
						continue
					}
					if strings.Join(got, " ") != tc.want {
						t.Errorf("%s %s?%s = %v, want %s", which, tc.typ, tc.q, got, tc.want)
					}
				}
			}
			// Conditional create by an encrypted identifier finds the match.
			res, err := engines["encrypted"].Create(ctx, p, "Patient", []byte(searchPatients[1]),
				engine.CreateOptions{IfNoneExist: "identifier=urn:mrn|MRN-QQ67890"})
			if err != nil || !res.NoOp {
				t.Errorf("conditional create: %v noop=%v", err, res.NoOp)
			}

			for _, q := range []string{
				"name:contains=chal", "_sort=family", "_sort=-birthdate", "birthdate=gt1970",
				"birthdate=le1974-12-25", "birthdate=1974-12-25T10:00:00Z", "identifier:text=mrn",
				"name=" + strings.Repeat("z", 33),
			} {
				// Each is fine without encryption: the refusal is encryption's.
				if _, err := search(engines["plain"], "Patient", q); err != nil {
					t.Errorf("plain Patient?%s: %v", q, err)
				}
				_, err := search(engines["encrypted"], "Patient", q)
				if !fhir.IsKind(err, fhir.KindInvalid) || !strings.Contains(err.Error(), "encrypted") {
					t.Errorf("encrypted Patient?%s: %v, want 400 naming the encryption", q, err)
				}
			}
			if _, err := engines["encrypted"].Search(ctx, p, engine.SearchRequest{Query: "_type=Patient,Practitioner&email=peter@qq.example.org"}); !fhir.IsKind(err, fhir.KindInvalid) ||
				!strings.Contains(err.Error(), "on its own") {
				t.Errorf("system search on an encrypted parameter: %v, want 400", err)
			}
			if _, err := search(engines["encrypted"], "Patient", "_sort=gender"); err != nil {
				t.Errorf("sorting by a clear element: %v", err)
			}

			dump := encB.dump(t)
			for _, v := range []string{"Zyxchalmers", "zyxchalmers", "zyxchalm", "MRN-QQ12345", "MRN-QQ67890", "555-0101", "555-0202",
				"peter@qq", "Pleasantvillezz", "pleasantvillezz", "Erewhonzz", "erewhon", "ullerzz", "1974-12-25", "1974-03-01"} {
				if strings.Contains(string(dump), v) {
					t.Errorf("the raw encrypted database holds %q", v)
				}
			}
			if !strings.Contains(string(plainB.dump(t)), "zyxchalmers") {
				t.Error("the plain database lacks the normalised name: the dump check looks in the wrong place")
			}
			// A history records its query in its AuditEvent (searches will
			// too): the audit log keeps it sealed, the chain over the sealed
			// bodies verifies, and the AuditEvent read through the engine
			// shows the query again.
			if _, err := engines["encrypted"].History(ctx, p, engine.HistoryRequest{Type: "Patient", Count: 7}); err != nil {
				t.Fatal(err)
			}
			log := encB.st.(store.AuditLog)
			rep, err := audit.Verify(ctx, log, "clinic")
			if err != nil || rep.Break != nil || rep.Checked == 0 {
				t.Errorf("audit chain: %+v, %v", rep, err)
			}
			entries, err := log.ScanAudit(ctx, "clinic", store.AuditQuery{})
			if err != nil {
				t.Fatal(err)
			}
			shown := 0
			for _, en := range entries {
				if strings.Contains(string(en.Body), "_count=7") {
					t.Errorf("the audit log holds a query in the clear: %s", en.Body)
				}
				if !strings.Contains(string(en.Body), `"_enc"`) {
					continue
				}
				res, err := engines["encrypted"].Read(ctx, p, "AuditEvent", en.ID)
				if err != nil {
					t.Fatalf("read AuditEvent: %v", err)
				}
				if strings.Contains(string(res.Record.Body), "_count=7") && strings.Contains(string(res.Record.Body), `"query":"`) {
					shown++
				}
			}
			if shown != 1 {
				t.Errorf("%d AuditEvents read back with their query, want 1", shown)
			}
			if fails.count() != 0 {
				t.Errorf("%d decryption failures", fails.count())
			}
		})
	}
}
