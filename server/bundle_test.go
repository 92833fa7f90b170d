package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/hearthtest"
)

// entry builds one Bundle entry.
func entry(fullURL, method, url, resource string, extra ...string) string {
	req := fmt.Sprintf(`"method":%q,"url":%q`, method, url)
	for i := 0; i+1 < len(extra); i += 2 {
		req += fmt.Sprintf(`,%q:%q`, extra[i], extra[i+1])
	}
	e := `{"request":{` + req + `}`
	if fullURL != "" {
		e += `,"fullUrl":"` + fullURL + `"`
	}
	if resource != "" {
		e += `,"resource":` + resource
	}
	return e + "}"
}

func bundle(typ string, entries ...string) string {
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
}

// responseStatuses lists entry.response.status of a response Bundle.
func responseStatuses(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, e := range entries(r.json(t)) {
		out = append(out, e["response"].(map[string]any)["status"].(string))
	}
	return out
}

// count returns how many current-version entries type history shows.
func count(t *testing.T, c client, typ string) int {
	t.Helper()
	h := c.do("GET", "/"+typ+"/_history?_count=1000", "").expect(t, http.StatusOK).json(t)
	return len(entries(h))
}

func TestTransactionRewritesReferences(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		obs := `{"resourceType":"Observation","status":"final","code":{"text":"hr"},
"subject":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"},
"performer":[{"reference":"urn:oid:1.2.3"}],
"contained":[{"resourceType":"Provenance","id":"prov","recorded":"2024-01-01T00:00:00Z",
  "target":[{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"}],
  "agent":[{"who":{"reference":"urn:oid:1.2.3"}}]}],
"extension":[{"url":"http://example.org/x","valueReference":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"}}]}`
		tx := bundle("transaction",
			entry("urn:uuid:22222222-2222-2222-2222-222222222222", "POST", "Observation", obs),
			entry("urn:uuid:11111111-1111-1111-1111-111111111111", "POST", "Patient", `{"resourceType":"Patient"}`),
			entry("urn:oid:1.2.3", "POST", "Practitioner", `{"resourceType":"Practitioner"}`),
		)
		r := c.do("POST", "", tx).expect(t, http.StatusOK)
		b := r.json(t)
		if b["type"] != "transaction-response" {
			t.Fatalf("type %v", b["type"])
		}
		if got := responseStatuses(t, r); strings.Join(got, ",") != "201 Created,201 Created,201 Created" {
			t.Fatalf("statuses %v", got)
		}
		es := entries(b)
		loc := es[1]["response"].(map[string]any)["location"].(string)
		patientID := strings.Split(strings.TrimPrefix(loc, srv.FHIR()+"/Patient/"), "/")[0]
		pracLoc := es[2]["response"].(map[string]any)["location"].(string)
		pracID := strings.Split(strings.TrimPrefix(pracLoc, srv.FHIR()+"/Practitioner/"), "/")[0]
		obsLoc := es[0]["response"].(map[string]any)["location"].(string)
		stored := string(c.do("GET", strings.TrimPrefix(strings.Split(obsLoc, "/_history")[0], srv.FHIR()), "").expect(t, 200).body)
		if strings.Contains(stored, "urn:") {
			t.Fatalf("urn reference left in %s", stored)
		}
		if strings.Count(stored, `"Patient/`+patientID+`"`) != 3 || strings.Count(stored, `"Practitioner/`+pracID+`"`) != 2 {
			t.Fatalf("references not rewritten everywhere: %s", stored)
		}
		// POST /fhir/ with the trailing slash that some clients send.
		c.do("POST", "/", bundle("transaction", entry("", "POST", "Patient", `{"resourceType":"Patient"}`))).expect(t, http.StatusOK)
	})
}

func TestTransactionIsAllOrNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		existing := c.do("POST", "/Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"1"}]}`).
			expect(t, http.StatusCreated).json(t)["id"].(string)
		before := count(t, c, "Patient")
		cases := []struct {
			name   string
			body   string
			status int
			expr   string
		}{
			{"invalid entry", bundle("transaction",
				entry("", "POST", "Patient", `{"resourceType":"Patient"}`),
				entry("", "POST", "Patient", `{"resourceType":"Patient","gender":"robot"}`)), 400, "Bundle.entry[1].resource.gender"},
			// Creates are validated ahead on every core; the failure named is
			// still the first the serial order reaches.
			{"first of several invalid entries", bundle("transaction",
				entry("", "POST", "Patient", `{"resourceType":"Patient"}`),
				entry("", "POST", "Patient", `{"resourceType":"Patient","gender":"robot"}`),
				entry("", "POST", "Patient", `{"resourceType":"Patient","birthDate":"never"}`),
				entry("", "POST", "Patient", `{"resourceType":"Patient","gender":"android"}`)), 400, "Bundle.entry[1].resource.gender"},
			{"conditional reference among prepared creates", bundle("transaction",
				entry("", "POST", "Patient", `{"resourceType":"Patient"}`),
				entry("", "POST", "Patient", `{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner?identifier=urn:npi|404"}]}`),
				entry("", "POST", "Patient", `{"resourceType":"Patient","gender":"robot"}`)), 412, ""},
			{"stale ifMatch", bundle("transaction",
				entry("", "POST", "Patient", `{"resourceType":"Patient"}`),
				entry("", "PUT", "Patient/"+existing, `{"resourceType":"Patient","id":"`+existing+`"}`, "ifMatch", `W/"7"`)), 412, ""},
			{"conditional reference with no match", bundle("transaction",
				entry("", "POST", "Patient", `{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner?identifier=urn:npi|404"}]}`)), 412, ""},
			{"two entries change one resource", bundle("transaction",
				entry("", "PUT", "Patient/"+existing, `{"resourceType":"Patient","id":"`+existing+`"}`),
				entry("", "DELETE", "Patient/"+existing, "")), 400, ""},
			{"not a transaction", bundle("collection"), 400, "Bundle.type"},
			{"not a bundle", `{"resourceType":"Patient"}`, 400, "resourceType"},
			{"entry without request", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]}`, 400, "Bundle.entry[0].request"},
			{"bad method", bundle("transaction", entry("", "TRACE", "Patient", "")), 400, ""},
			{"unknown type", bundle("transaction", entry("", "POST", "Nope", `{"resourceType":"Nope"}`)), 400, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				issue := c.do("POST", "", tc.body).expect(t, tc.status).outcome(t)
				if tc.expr != "" && expression(issue) != tc.expr {
					t.Fatalf("expression %q, want %q", expression(issue), tc.expr)
				}
				if n := count(t, c, "Patient"); n != before {
					t.Fatalf("%d Patient versions after a failed transaction, want %d", n, before)
				}
			})
		}
		// Conditional reference with two matches fails and names the reference.
		c.do("POST", "/Practitioner", `{"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"2"}]}`).expect(t, 201)
		c.do("POST", "/Practitioner", `{"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"2"}]}`).expect(t, 201)
		issue := c.do("POST", "", bundle("transaction",
			entry("", "POST", "Patient", `{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner?identifier=urn:npi|2"}]}`))).
			expect(t, http.StatusPreconditionFailed).outcome(t)
		if !strings.Contains(issue["diagnostics"].(string), "Practitioner?identifier=urn:npi|2") {
			t.Fatalf("diagnostics do not name the reference: %v", issue["diagnostics"])
		}
		// With exactly one match it resolves.
		npi := c.do("POST", "/Practitioner", `{"resourceType":"Practitioner","identifier":[{"system":"urn:npi","value":"3"}]}`).expect(t, 201).json(t)["id"]
		r := c.do("POST", "", bundle("transaction",
			entry("", "POST", "Patient", `{"resourceType":"Patient","generalPractitioner":[{"reference":"Practitioner?identifier=urn:npi|3"}]}`))).
			expect(t, http.StatusOK)
		if !strings.Contains(string(r.body), `"reference":"Practitioner/`+npi.(string)+`"`) {
			t.Fatalf("conditional reference not resolved: %s", r.body)
		}
	})
}

func TestTransactionConditionalAndOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		gone := c.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, 201).json(t)["id"].(string)
		kept := c.do("POST", "/Patient", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"k"}]}`).expect(t, 201).json(t)["id"].(string)
		patch := base64.StdEncoding.EncodeToString([]byte(`[{"op":"add","path":"/gender","value":"female"}]`))
		r := c.do("POST", "", bundle("transaction",
			entry("", "GET", "Patient/"+kept, ""),
			entry("", "PATCH", "Patient/"+kept, `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"`+patch+`"}`),
			entry("", "POST", "Patient", `{"resourceType":"Patient"}`, "ifNoneExist", "identifier=urn:mrn|k"),
			entry("", "PUT", "Patient?identifier=urn:mrn|new", `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"new"}]}`),
			entry("", "DELETE", "Patient/"+gone, ""),
			entry("", "GET", "Patient/"+kept, "", "ifNoneMatch", `W/"1"`),
		)).expect(t, http.StatusOK)
		got := responseStatuses(t, r)
		want := "200 OK,200 OK,200 OK,201 Created,204 No Content,200 OK"
		if strings.Join(got, ",") != want {
			t.Fatalf("statuses %v, want %s", got, want)
		}
		es := entries(r.json(t))
		// GET runs after PATCH (processing order), so it sees version 2.
		if es[0]["resource"].(map[string]any)["gender"] != "female" {
			t.Fatalf("GET entry did not see the transaction's PATCH: %v", es[0]["resource"])
		}
		if es[2]["resource"].(map[string]any)["id"] != kept {
			t.Fatal("ifNoneExist did not return the existing resource")
		}
		c.do("GET", "/Patient/"+gone, "").expect(t, http.StatusGone)
	})
}

func TestBatchReportsEachEntry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		r := c.do("POST", "", bundle("batch",
			entry("", "POST", "Patient", `{"resourceType":"Patient"}`),
			entry("", "POST", "Patient", `{"resourceType":"Patient","gender":"robot"}`),
			entry("", "GET", "Patient/missing", ""),
			entry("", "POST", "Communication", `{"resourceType":"Communication","status":"completed"}`),
		)).expect(t, http.StatusOK)
		if got := strings.Join(responseStatuses(t, r), ","); got != "201 Created,400 Bad Request,404 Not Found,201 Created" {
			t.Fatalf("statuses %s", got)
		}
		es := entries(r.json(t))
		oo := es[1]["response"].(map[string]any)["outcome"].(map[string]any)
		if oo["resourceType"] != "OperationOutcome" {
			t.Fatalf("failed entry has no OperationOutcome: %v", es[1])
		}
		if count(t, c, "Patient") != 1 || count(t, c, "Communication") != 1 {
			t.Fatal("the good entries of the batch did not apply")
		}
	})
}

func TestBundleLimits(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.OpenStore(t, "sqlite"), func(cfg *app.Config) { cfg.MaxEntries = 2 })
	c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
	p := entry("", "POST", "Patient", `{"resourceType":"Patient"}`)
	c.do("POST", "", bundle("transaction", p, p, p)).expect(t, http.StatusRequestEntityTooLarge).outcome(t)
	c.do("POST", "", bundle("batch", p, p, p)).expect(t, http.StatusRequestEntityTooLarge).outcome(t)
	c.do("POST", "", bundle("transaction", p, p)).expect(t, http.StatusOK)
}

// TestConcurrentTransactions: two transactions that update the same two
// resources, pinned to the same versions, race; exactly one wins, and both
// resources carry the winner's mark, never a mix.
func TestConcurrentTransactions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		for round := 0; round < 5; round++ {
			a := c.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, 201).json(t)["id"].(string)
			b := c.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, 201).json(t)["id"].(string)
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					mark := fmt.Sprintf("19%d0-01-01", i)
					put := func(id string) string {
						return entry("", "PUT", "Patient/"+id, `{"resourceType":"Patient","id":"`+id+`","birthDate":"`+mark+`"}`, "ifMatch", `W/"1"`)
					}
					statuses[i] = c.do("POST", "", bundle("transaction", put(a), put(b))).status
				}()
			}
			wg.Wait()
			if !(statuses[0] == 200) != (statuses[1] == 200) || (statuses[0] != 200 && statuses[0] != 412 && statuses[0] != 409) ||
				(statuses[1] != 200 && statuses[1] != 412 && statuses[1] != 409) {
				t.Fatalf("statuses %v, want one 200 and one 409/412", statuses)
			}
			da := c.do("GET", "/Patient/"+a, "").expect(t, 200).json(t)["birthDate"]
			db := c.do("GET", "/Patient/"+b, "").expect(t, 200).json(t)["birthDate"]
			if da != db {
				t.Fatalf("mixed result: %v and %v", da, db)
			}
		}
	})
}

// TestSyntheaImport posts every Synthea transaction Bundle and checks the
// per-type counts against the Bundles.
func TestSyntheaImport(t *testing.T) {
	bundles := hearthtest.SyntheaBundles(t)
	want := map[string]int{}
	for _, b := range bundles {
		var parsed struct {
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal(b.JSON, &parsed); err != nil {
			t.Fatal(err)
		}
		for _, e := range parsed.Entry {
			want[e.Resource.ResourceType]++
		}
	}
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		for _, b := range bundles {
			r := c.do("POST", "", string(b.JSON), "Prefer", "return=minimal")
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d %s", b.Name, r.status, r.body)
			}
		}
		for typ, n := range want {
			if got := countAll(t, c, typ); got != n {
				t.Errorf("%s: %d stored, %d in the bundles", typ, got, n)
			}
		}
	})
}

// countAll pages through type history and counts its entries.
func countAll(t *testing.T, c client, typ string) int {
	t.Helper()
	n := 0
	for next := "/" + typ + "/_history?_count=1000"; next != ""; {
		page := c.do("GET", next, "").expect(t, http.StatusOK).json(t)
		n += len(entries(page))
		next = link(page, "next")
	}
	return n
}

// Search entries (GET Type?criteria) answer with a searchset Bundle as
// the entry's resource; in a transaction they run last and see its writes.
func TestSearchEntries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		searchset := func(t *testing.T, e map[string]any) []any {
			t.Helper()
			res, ok := e["resource"].(map[string]any)
			if !ok || res["resourceType"] != "Bundle" || res["type"] != "searchset" {
				t.Fatalf("search entry resource is not a searchset: %v", e)
			}
			got, _ := res["entry"].([]any)
			return got
		}
		r := c.do("POST", "", bundle("transaction",
			entry("", "GET", "Patient?family=yu", ""),
			entry("urn:uuid:0b5d8c3e-1f0e-4c3a-9a8e-2b7a1d3c4e5f", "POST", "Patient", `{"resourceType":"Patient","name":[{"family":"Yu"}]}`),
		)).expect(t, http.StatusOK)
		if got := strings.Join(responseStatuses(t, r), ","); got != "200 OK,201 Created" {
			t.Fatalf("statuses %s", got)
		}
		if got := searchset(t, entries(r.json(t))[0]); len(got) != 1 {
			t.Fatalf("transaction search found %d, want the Patient created in the same transaction", len(got))
		}

		r = c.do("POST", "", bundle("batch",
			entry("", "GET", "Patient?family=yu&_total=accurate", ""),
			entry("", "GET", "Patient?family=nobody", ""),
			entry("", "GET", "Patient?birthdate=notadate", ""),
		)).expect(t, http.StatusOK)
		if got := strings.Join(responseStatuses(t, r), ","); got != "200 OK,200 OK,400 Bad Request" {
			t.Fatalf("statuses %s", got)
		}
		es := entries(r.json(t))
		if got := searchset(t, es[0]); len(got) != 1 {
			t.Errorf("batch search found %d, want 1", len(got))
		}
		if total := es[0]["resource"].(map[string]any)["total"]; total != float64(1) {
			t.Errorf("_total=accurate in a search entry: total %v", total)
		}
		if got := searchset(t, es[1]); len(got) != 0 {
			t.Errorf("search for nobody found %d", len(got))
		}
	})
}

// TestBundleRefusesMalformed: a Bundle the server cannot read is refused
// with 400 and an OperationOutcome, and nothing of it is written; one
// laid out with whitespace, a null resource and entries in any member
// order is read.
func TestBundleRefusesMalformed(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.OpenStore(t, "sqlite"))
	c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
	p := entry("urn:uuid:p", "POST", "Patient", `{"resourceType":"Patient"}`)
	for name, body := range map[string]string{
		"not JSON":               `{"resourceType":"Bundle","type":"batch","entry":[` + p,
		"not an object":          `[` + bundle("batch", p) + `]`,
		"two values":             bundle("batch", p) + ` {}`,
		"entry not an array":     `{"resourceType":"Bundle","type":"batch","entry":` + p + `}`,
		"entry of a number":      bundle("transaction", p, `1`),
		"fullUrl a number":       bundle("transaction", p, `{"fullUrl":1,"request":{"method":"POST","url":"Patient"},"resource":{"resourceType":"Patient"}}`),
		"request a string":       bundle("transaction", p, `{"request":"POST Patient","resource":{"resourceType":"Patient"}}`),
		"no request":             bundle("transaction", p, `{"resource":{"resourceType":"Patient"}}`),
		"duplicate member":       `{"resourceType":"Bundle","type":"batch","type":"transaction","entry":[` + p + `]}`,
		"resource not an object": bundle("transaction", p, entry("", "POST", "Patient", `"Patient"`)),
		"null resource to POST":  bundle("transaction", p, entry("", "POST", "Patient", `null`)),
		"not a Bundle":           `{"resourceType":"Patient","type":"batch","entry":[` + p + `]}`,
		"a collection":           bundle("collection", p),
	} {
		t.Run(name, func(t *testing.T) {
			c.do("POST", "", body).expect(t, http.StatusBadRequest).outcome(t)
		})
	}
	if n := count(t, c, "Patient"); n != 0 {
		t.Fatalf("%d Patients written by refused Bundles", n)
	}
	spaced := "{\n  \"entry\" : [ {\n    \"resource\" : { \"resourceType\" : \"Patient\" , \"name\" : [ { \"family\" : \"Spaced\" } ] } ,\n" +
		"    \"request\" : { \"url\" : \"Patient\" , \"method\" : \"POST\" } ,\n    \"fullUrl\" : \"urn:uuid:s\"\n  } , " +
		entry("", "DELETE", "Patient/none", `null`) + " ] ,\n  \"type\" : \"transaction\" , \"resourceType\" : \"Bundle\"\n}\n"
	got := responseStatuses(t, c.do("POST", "", spaced).expect(t, http.StatusOK))
	if len(got) != 2 || !strings.HasPrefix(got[0], "201") {
		t.Fatalf("statuses %v", got)
	}
	if n := count(t, c, "Patient"); n != 1 {
		t.Fatalf("%d Patients after the spaced Bundle, want 1", n)
	}
}
