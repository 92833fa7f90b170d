package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// marker is in every encrypted element of the test resources; base64
// elements hold base64 of a marked string, which starts with markerB64.
const marker = "ZQXMARKER"

var markerB64 = base64.StdEncoding.EncodeToString([]byte(marker + "-"))[:12]

// byteaHex finds a BYTEA value in pg_dump's text format.
var byteaHex = regexp.MustCompile(`\\\\x([0-9a-f]+)`)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The dates of birth are markers too: unusual enough to be found only where
// they were written.
var birthDates = []string{"1903-07-19", "1904-08-20", "1905-09-21"}

// markedResources hold markers in every element of the default set.
var markedResources = []struct{ typ, body string }{
	{"Patient", `{"resourceType":"Patient",
		"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + marker + `-narrative</div>"},
		"identifier":[{"system":"urn:oid:1.2.36.146.595.217.0.1","value":"` + marker + `-identifier"}],
		"name":[{"family":"` + marker + `-family","given":["` + marker + `-given"]}],
		"telecom":[{"system":"phone","value":"` + marker + `-phone"},{"system":"email","value":"` + marker + `@example.org"}],
		"gender":"female","birthDate":"1903-07-19",
		"address":[{"line":["` + marker + `-line"],"city":"` + marker + `-city","postalCode":"` + marker + `-zip"}],
		"photo":[{"contentType":"text/plain","data":"` + b64(marker+"-photo") + `"}],
		"contact":[{"name":{"family":"` + marker + `-contact"}}]}`},
	{"RelatedPerson", `{"resourceType":"RelatedPerson","patient":{"reference":"Patient/someone"},
		"identifier":[{"value":"` + marker + `-rp-identifier"}],"name":[{"family":"` + marker + `-rp-family"}],
		"telecom":[{"system":"phone","value":"` + marker + `-rp-phone"}],"address":[{"city":"` + marker + `-rp-city"}],
		"birthDate":"1904-08-20"}`},
	{"Practitioner", `{"resourceType":"Practitioner","name":[{"family":"Publicname"}],
		"telecom":[{"system":"email","value":"` + marker + `-prac@example.org"}],
		"address":[{"line":["` + marker + `-prac-line"]}],"birthDate":"1905-09-21"}`},
	{"Communication", `{"resourceType":"Communication","status":"completed",
		"payload":[{"contentString":"` + marker + `-payload"},{"contentAttachment":{"contentType":"text/plain","data":"` + b64(marker+"-attached") + `"}}],
		"note":[{"text":"` + marker + `-note"}]}`},
	{"CommunicationRequest", `{"resourceType":"CommunicationRequest","status":"active",
		"payload":[{"contentString":"` + marker + `-request"}],"note":[{"text":"` + marker + `-request-note"}]}`},
	{"QuestionnaireResponse", `{"resourceType":"QuestionnaireResponse","status":"completed",
		"item":[{"linkId":"1","text":"Symptoms?","answer":[{"valueString":"` + marker + `-answer"}]}]}`},
	{"Binary", `{"resourceType":"Binary","contentType":"text/plain","data":"` + b64(marker+"-binary") + `"}`},
	{"DocumentReference", `{"resourceType":"DocumentReference","status":"current","description":"` + marker + `-description",
		"content":[{"attachment":{"contentType":"text/plain","data":"` + b64(marker+"-document") + `"}},
		{"attachment":{"contentType":"text/plain","url":"http://example.org/public"}}]}`},
}

// backend is a store with raw access to its bytes and rows.
type backend struct {
	name    string
	st      store.Store
	dump    func(t testing.TB) []byte                         // every byte the database holds, as a dump or its files
	setBody func(t testing.TB, table, id string, body []byte) // overwrite a stored body behind the engine's back
	rawBody func(t testing.TB, table, id string, version int64) []byte
	// snapshot copies the whole database as a backup would, and opens the
	// copy as a store of its own.
	snapshot func(t testing.TB) store.Store
}

func backends(t *testing.T) []backend {
	return []backend{sqliteBackend(t), postgresBackend(t)}
}

func sqliteBackend(t testing.TB) backend {
	dir := t.TempDir()
	path := filepath.Join(dir, "hearth.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	raw, err := sql.Open("sqlite", path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return backend{
		name: "sqlite", st: st,
		dump: func(t testing.TB) []byte {
			// Every file of the database: main file, WAL, shared memory.
			var all []byte
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, b...)
			}
			if len(all) == 0 {
				t.Fatal("no database files")
			}
			return all
		},
		setBody: func(t testing.TB, table, id string, body []byte) {
			if _, err := raw.Exec(`UPDATE `+table+` SET body = ? WHERE id = ?`, body, id); err != nil {
				t.Fatal(err)
			}
		},
		rawBody: func(t testing.TB, table, id string, version int64) []byte {
			var b []byte
			if err := raw.QueryRow(`SELECT body FROM `+table+` WHERE id = ? AND version = ?`, id, version).Scan(&b); err != nil {
				t.Fatal(err)
			}
			return b
		},
		snapshot: func(t testing.TB) store.Store {
			// The database file and its log, copied while nothing writes;
			// SQLite rebuilds the shared-memory index from the log.
			copyDir := t.TempDir()
			for _, name := range []string{"hearth.db", "hearth.db-wal"} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(copyDir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cp, err := sqlite.Open(context.Background(), filepath.Join(copyDir, "hearth.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cp.Close() })
			return cp
		},
	}
}

func postgresBackend(t testing.TB) backend {
	u := pgtest.URL(t)
	st, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	parsed, _ := url.Parse(u)
	schema := parsed.Query().Get("search_path")
	q := parsed.Query()
	q.Del("search_path")
	parsed.RawQuery = q.Encode()
	base := parsed.String()
	conn := func(t testing.TB) *pgx.Conn {
		c, err := pgx.Connect(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	return backend{
		name: "postgres", st: st,
		dump: func(t testing.TB) []byte {
			out, err := exec.Command("pg_dump", "--dbname="+base, "--schema="+schema).Output()
			if err != nil {
				t.Fatalf("pg_dump: %v", err)
			}
			if !bytes.Contains(out, []byte("COPY "+schema+".resources")) {
				t.Fatalf("pg_dump output lacks the resources table")
			}
			// BYTEA columns (bodies, keys) are dumped as hex: decode them
			// so that their bytes are searched too.
			for _, m := range byteaHex.FindAllSubmatch(out, -1) {
				decoded, err := hex.DecodeString(string(m[1]))
				if err != nil {
					t.Fatalf("pg_dump bytea: %v", err)
				}
				out = append(out, decoded...)
			}
			return out
		},
		setBody: func(t testing.TB, table, id string, body []byte) {
			if _, err := conn(t).Exec(context.Background(), `UPDATE `+table+` SET body = $1 WHERE id = $2`, body, id); err != nil {
				t.Fatal(err)
			}
		},
		rawBody: func(t testing.TB, table, id string, version int64) []byte {
			var b []byte
			if err := conn(t).QueryRow(context.Background(), `SELECT body FROM `+table+` WHERE id = $1 AND version = $2`, id, version).Scan(&b); err != nil {
				t.Fatal(err)
			}
			return b
		},
		snapshot: func(t testing.TB) store.Store {
			// Every table copied, rows and all, into a schema of its own.
			cu := pgtest.URL(t)
			cparsed, _ := url.Parse(cu)
			side := cparsed.Query().Get("search_path")
			ctx := context.Background()
			c := conn(t)
			tables, err := c.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`, schema)
			if err != nil {
				t.Fatal(err)
			}
			names, err := pgx.CollectRows(tables, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				from, to := pgx.Identifier{schema, name}.Sanitize(), pgx.Identifier{side, name}.Sanitize()
				if _, err := c.Exec(ctx, `CREATE TABLE `+to+` (LIKE `+from+` INCLUDING ALL)`); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Exec(ctx, `INSERT INTO `+to+` SELECT * FROM `+from); err != nil {
					t.Fatal(err)
				}
			}
			cp, err := postgres.Open(ctx, cu)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cp.Close() })
			return cp
		},
	}
}

// failures records OnDecryptFailure calls.
type failures struct {
	mu  sync.Mutex
	ids []string
}

func (f *failures) record(_ context.Context, _, typ, id string, _ int64, _ error) {
	f.mu.Lock()
	f.ids = append(f.ids, typ+"/"+id)
	f.mu.Unlock()
}

func (f *failures) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids)
}

func newEngine(t testing.TB, st store.Store, ring *crypt.Ring, fails *failures) *engine.Engine {
	t.Helper()
	v, err := fhir.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	// Audit is on, as in production: searches record their queries.
	opts := []engine.Option{engine.WithAudit(audit.NewLog(audit.ServerRef{Name: "hearth"}))}
	if ring != nil {
		enc := engine.Encryption{Ring: ring, Elements: crypt.DefaultElements(), OnDecryptFailure: fails.record}
		opts = append(opts, engine.WithEncryption(enc))
	}
	eng := engine.New(st, v, engine.DefaultConfig(), opts...)
	t.Cleanup(eng.Close)
	return eng
}

func newRing(t testing.TB, st store.Store) *crypt.Ring {
	t.Helper()
	w, err := crypt.NewLocalWrapper(bytes.Repeat([]byte{0x5a}, crypt.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return crypt.NewRing(st.(crypt.KeyStore), w)
}

func principal(t testing.TB, tenant string) engine.Principal {
	t.Helper()
	s, err := scope.Parse("system/*.*")
	if err != nil {
		t.Fatal(err)
	}
	return engine.Principal{Tenant: tenant, Subject: "test", ClientID: "test", Scopes: s}
}

// markersIn lists the markers found in b.
func markersIn(b []byte) []string {
	var found []string
	for _, m := range append([]string{marker, markerB64}, birthDates...) {
		if bytes.Contains(b, []byte(m)) {
			found = append(found, m)
		}
	}
	return found
}

// TestEncryptedAtRest creates resources holding markers in every default
// encrypted element, updates them and writes a transaction Bundle: the raw
// database (a pg_dump of every table; every byte of the SQLite files, WAL
// included) holds none of the markers, while reads, version reads,
// history and identifier matches return them.
func TestEncryptedAtRest(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var fails failures
			e := newEngine(t, b.st, newRing(t, b.st), &fails)
			p := principal(t, "clinic")
			ids := map[string]string{}
			for _, r := range markedResources {
				res, err := e.Create(ctx, p, r.typ, []byte(r.body), engine.CreateOptions{})
				if err != nil {
					t.Fatalf("create %s: %v", r.typ, err)
				}
				ids[r.typ] = res.Record.ID
				if len(markersIn(res.Record.Body)) == 0 {
					t.Errorf("create %s: the response lost the markers", r.typ)
				}
			}
			// A second version, and a Bundle written through the bulk path.
			pid := ids["Patient"]
			upd := strings.Replace(markedResources[0].body, `"gender":"female"`, `"id":"`+pid+`","gender":"other"`, 1)
			if _, err := e.Update(ctx, p, "Patient", pid, []byte(upd), engine.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			bundle, err := e.Transaction(ctx, p, []engine.BundleEntry{
				{FullURL: "urn:uuid:0c3d4b2e-0000-4000-8000-000000000001", Method: "POST", URL: "Patient", Resource: []byte(markedResources[0].body)},
				{Method: "POST", URL: "Communication", Resource: []byte(strings.Replace(markedResources[3].body, `"status"`,
					`"subject":{"reference":"urn:uuid:0c3d4b2e-0000-4000-8000-000000000001"},"status"`, 1))},
			})
			if err != nil {
				t.Fatal(err)
			}

			if found := markersIn(b.dump(t)); len(found) != 0 {
				t.Errorf("the raw database holds %v", found)
			}

			for typ, id := range ids {
				res, err := e.Read(ctx, p, typ, id)
				if err != nil {
					t.Fatalf("read %s: %v", typ, err)
				}
				if len(markersIn(res.Record.Body)) == 0 {
					t.Errorf("read %s/%s: no markers in %s", typ, id, res.Record.Body)
				}
				if !strings.Contains(string(res.Record.Body), `"resourceType":"`+typ+`"`) {
					t.Errorf("read %s: %s", typ, res.Record.Body)
				}
			}
			v1, err := e.VRead(ctx, p, "Patient", pid, 1)
			if err != nil || !bytes.Contains(v1.Record.Body, []byte(`"gender":"female"`)) || len(markersIn(v1.Record.Body)) == 0 {
				t.Errorf("vread v1: %v %s", err, v1.Record.Body)
			}
			page, err := e.History(ctx, p, engine.HistoryRequest{Type: "Patient", ID: pid})
			if err != nil || len(page.Records) != 2 {
				t.Fatalf("history: %v, %d versions", err, len(page.Records))
			}
			for _, r := range page.Records {
				if !bytes.Contains(r.Body, []byte(marker+"-family")) {
					t.Errorf("history v%d lacks the name", r.Version)
				}
			}
			sys, err := e.History(ctx, p, engine.HistoryRequest{})
			if err != nil || len(sys.Records) != len(markedResources)+3 {
				t.Errorf("system history: %v, %d versions", err, len(sys.Records))
			}
			comm, err := e.Read(ctx, p, "Communication", bundle[1].Record.ID)
			if err != nil || !bytes.Contains(comm.Record.Body, []byte(`"reference":"Patient/`+bundle[0].Record.ID+`"`)) {
				t.Errorf("bundle entry: %v %s", err, comm.Record.Body)
			}

			// Equality on the encrypted identifier through its blind index,
			// with and without the system.
			for _, q := range []string{
				"identifier=urn:oid:1.2.36.146.595.217.0.1|" + marker + "-identifier",
				"identifier=" + marker + "-identifier",
			} {
				res, err := e.Create(ctx, p, "Patient", []byte(markedResources[0].body), engine.CreateOptions{IfNoneExist: q})
				if !fhir.IsKind(err, fhir.KindPreconditionFailed) {
					t.Errorf("If-None-Exist %s: %v, %+v; want two matches (the Patient and its Bundle twin)", q, err, res.Touched)
				}
			}
			rp := markedResources[1].body
			for _, q := range []string{"identifier=" + marker + "-rp-identifier", "identifier=|" + marker + "-rp-identifier"} {
				res, err := e.Create(ctx, p, "RelatedPerson", []byte(rp), engine.CreateOptions{IfNoneExist: q})
				if err != nil || !res.NoOp || res.Record.ID != ids["RelatedPerson"] {
					t.Errorf("If-None-Exist %s: %v, noop=%v id=%s; want the existing %s", q, err, res.NoOp, res.Record.ID, ids["RelatedPerson"])
				}
			}
			for _, q := range []string{"identifier=urn:other|" + marker + "-identifier", "identifier=" + marker, "identifier=|" + marker + "-identifier"} {
				res, err := e.Create(ctx, p, "Patient", []byte(markedResources[0].body), engine.CreateOptions{IfNoneExist: q})
				if err != nil || res.NoOp {
					t.Errorf("If-None-Exist %s: %v noop=%v; want no match and a create", q, err, res.NoOp)
				}
			}
			if found := markersIn(b.dump(t)); len(found) != 0 {
				t.Errorf("after the searches, the raw database holds %v", found)
			}
			if fails.count() != 0 {
				t.Errorf("%d decryption failures", fails.count())
			}
		})
	}
}

// TestDecryptFailures damages stored ciphertext behind the engine's back:
// whole bodies swapped between resources, envelopes swapped between
// elements, truncated or altered. Every read fails with an internal error
// (500) and reports the failure; none returns garbled or partial data.
func TestDecryptFailures(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			var fails failures
			e := newEngine(t, b.st, newRing(t, b.st), &fails)
			p := principal(t, "clinic")
			create := func() string {
				res, err := e.Create(ctx, p, "Patient", []byte(markedResources[0].body), engine.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				return res.Record.ID
			}
			p1, p2, p3, p4, p5 := create(), create(), create(), create(), create()
			envelope := func(body []byte, n int) []byte {
				rest := body
				for range n + 1 {
					i := bytes.Index(rest, []byte(`{"_enc":"`))
					rest = rest[i+1:]
				}
				return []byte("{" + string(rest[:bytes.IndexByte(rest, '}')+1]))
			}
			// Whole body of p2 under p1's key.
			b.setBody(t, "resources", p1, b.rawBody(t, "resources", p2, 1))
			// Name and telecom envelopes swapped within p3.
			body3 := b.rawBody(t, "resources", p3, 1)
			name, tel := envelope(body3, 2), envelope(body3, 3)
			swapped := bytes.Replace(bytes.Replace(bytes.Replace(body3, name, []byte("#"), 1), tel, name, 1), []byte("#"), tel, 1)
			b.setBody(t, "resources", p3, swapped)
			// p4 truncated inside an envelope; p5 altered in one character.
			body4 := b.rawBody(t, "resources", p4, 1)
			env4 := envelope(body4, 0)
			b.setBody(t, "resources", p4, bytes.Replace(body4, env4, append(env4[:len(env4)-6:len(env4)-6], `"}`...), 1))
			body5 := b.rawBody(t, "resource_history", p5, 1)
			env5 := envelope(body5, 1)
			bad5 := bytes.Clone(env5)
			bad5[20] ^= 1
			b.setBody(t, "resource_history", p5, bytes.Replace(body5, env5, bad5, 1))

			for _, tc := range []struct {
				what string
				read func() (engine.Result, error)
			}{
				{"body moved between resources", func() (engine.Result, error) { return e.Read(ctx, p, "Patient", p1) }},
				{"envelopes swapped between elements", func() (engine.Result, error) { return e.Read(ctx, p, "Patient", p3) }},
				{"truncated", func() (engine.Result, error) { return e.Read(ctx, p, "Patient", p4) }},
				{"altered history row", func() (engine.Result, error) { return e.VRead(ctx, p, "Patient", p5, 1) }},
			} {
				res, err := tc.read()
				if !fhir.IsKind(err, fhir.KindInternal) {
					t.Errorf("%s: %v, want an internal error", tc.what, err)
				}
				if res.Record.Body != nil {
					t.Errorf("%s: a body came with the error", tc.what)
				}
				var fe *fhir.Error
				if errors.As(err, &fe) && strings.Contains(fe.Message, marker) {
					t.Errorf("%s: the message reveals data: %s", tc.what, fe.Message)
				}
			}
			if _, err := e.History(ctx, p, engine.HistoryRequest{Type: "Patient"}); !fhir.IsKind(err, fhir.KindInternal) {
				t.Errorf("history over a damaged version: %v", err)
			}
			if _, err := e.Read(ctx, p, "Patient", p2); err != nil {
				t.Errorf("the undamaged resource: %v", err)
			}
			// A search that finds a damaged resource, an update, which reads
			// the current version first, and a transaction entry fail too
			// rather than serving or building on garbage.
			if _, err := e.Search(ctx, p, engine.SearchRequest{Type: "Patient", Query: "_id=" + p3}); !fhir.IsKind(err, fhir.KindInternal) {
				t.Errorf("search finding a damaged resource: %v", err)
			}
			if _, err := e.Update(ctx, p, "Patient", p4, []byte(`{"resourceType":"Patient","id":"`+p4+`"}`), engine.UpdateOptions{}); !fhir.IsKind(err, fhir.KindInternal) {
				t.Errorf("update of a damaged resource: %v", err)
			}
			if _, err := e.Transaction(ctx, p, []engine.BundleEntry{{Method: "GET", URL: "Patient/" + p1}}); !fhir.IsKind(err, fhir.KindInternal) {
				t.Errorf("transaction reading a damaged resource: %v", err)
			}
			if n := fails.count(); n < 8 {
				t.Errorf("%d failures reported, want at least 8", n)
			}
			// Each failure has its AuditEvent: serious failure, naming the
			// version that did not decrypt, whatever the interaction (the
			// transaction's read entry has one of its own).
			want := map[string]string{
				"read " + p1: "Patient/" + p1 + "/_history/1", "read " + p3: "Patient/" + p3 + "/_history/1",
				"read " + p4: "Patient/" + p4 + "/_history/1", "vread " + p5: "Patient/" + p5 + "/_history/1",
				"history-type": "", "search-type": "Patient/" + p3 + "/_history/1",
				"update " + p4: "Patient/" + p4 + "/_history/1", "transaction": "Patient/" + p1 + "/_history/1",
			}
			seen := map[string]bool{}
			for _, ev := range decryptFailureEvents(t, b.st, "clinic") {
				key := ev.interaction
				if ev.interaction == "read" || ev.interaction == "vread" || ev.interaction == "update" {
					key += " " + strings.TrimPrefix(strings.Split(ev.what, "/_history")[0], "Patient/")
				}
				ref, ok := want[key]
				if seen[key] {
					continue
				}
				if !ok {
					t.Errorf("unexpected decryption failure event %+v", ev)
					continue
				}
				if ref != "" && ev.what != ref || ref == "" && !strings.HasPrefix(ev.what, "Patient/") {
					t.Errorf("%s: the AuditEvent names %q, want %q", key, ev.what, ref)
				}
				seen[key] = true
			}
			for key := range want {
				if seen[key] {
					continue
				}
				t.Errorf("no AuditEvent with outcome 8 naming the damaged resource for %s", key)
			}
		})
	}
}

// failureEvent is an AuditEvent that records a decryption failure.
type failureEvent struct {
	interaction string // the restful-interaction subtype
	what        string // the entity that failed to decrypt
}

// decryptFailureEvents lists the tenant's AuditEvents with outcome 8 that
// say a stored version could not be decrypted, and the entity each names.
func decryptFailureEvents(t testing.TB, st store.Store, tenant string) []failureEvent {
	t.Helper()
	entries, err := st.(store.AuditLog).ScanAudit(context.Background(), tenant, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []failureEvent
	for _, en := range entries {
		var ae struct {
			Outcome     string
			OutcomeDesc string
			Subtype     []struct{ Code string }
			Entity      []struct{ What *struct{ Reference string } }
		}
		if err := json.Unmarshal(en.Body, &ae); err != nil {
			t.Fatal(err)
		}
		if ae.Outcome != "8" || !strings.Contains(ae.OutcomeDesc, "could not be decrypted") {
			continue
		}
		ev := failureEvent{interaction: ae.Subtype[0].Code}
		for _, e := range ae.Entity {
			if e.What != nil && strings.HasPrefix(ae.OutcomeDesc, "the protected elements of "+strings.Split(e.What.Reference, "/_history")[0]+" ") {
				ev.what = e.What.Reference
			}
		}
		out = append(out, ev)
	}
	return out
}

// Without encryption nothing changes: bodies are stored as served, and the
// raw database shows the markers, which proves the at-rest test looks in
// the right places.
func TestEncryptionOff(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			if err := b.st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			e := newEngine(t, b.st, nil, nil)
			res, err := e.Create(ctx, principal(t, "clinic"), "Patient", []byte(markedResources[0].body), engine.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if raw := b.rawBody(t, "resources", res.Record.ID, 1); !bytes.Equal(raw, res.Record.Body) {
				t.Errorf("stored %s, served %s", raw, res.Record.Body)
			}
			if found := markersIn(b.dump(t)); len(found) < 3 {
				t.Errorf("unencrypted, the raw database shows only %v", found)
			}
		})
	}
}
