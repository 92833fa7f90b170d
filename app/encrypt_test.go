package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// Through the HTTP API with encryption on: a resource reads back as
// written; once its stored ciphertext is damaged, reading it answers 500
// with an OperationOutcome that reveals nothing of the data, and the
// failure is reported.
func TestEncryptedOverHTTP(t *testing.T) {
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st := hearthtest.OpenStore(t, backend)
			w, _ := crypt.NewLocalWrapper(bytes.Repeat([]byte{1}, crypt.KeySize))
			var failures []string
			enc := &engine.Encryption{
				Ring: crypt.NewRing(st.(crypt.KeyStore), w), Elements: crypt.DefaultElements(),
				OnDecryptFailure: func(_ context.Context, _, typ, id string, _ int64, _ error) {
					failures = append(failures, typ+"/"+id)
				},
			}
			srv := hearthtest.Start(t, st, func(c *app.Config) { c.Encryption = enc })
			token := srv.Token("default", "system/*.cruds")
			do := func(method, url, body string) (int, []byte) {
				t.Helper()
				req, _ := http.NewRequest(method, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/fhir+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			status, body := do("POST", srv.FHIR()+"/Patient",
				`{"resourceType":"Patient","name":[{"family":"HTTPMARKER"}],"birthDate":"1921-02-03"}`)
			if status != 201 {
				t.Fatalf("create: %d %s", status, body)
			}
			var created struct{ ID string }
			json.Unmarshal(body, &created)
			status, body = do("GET", srv.FHIR()+"/Patient/"+created.ID, "")
			if status != 200 || !bytes.Contains(body, []byte("HTTPMARKER")) || !bytes.Contains(body, []byte("1921-02-03")) {
				t.Fatalf("read: %d %s", status, body)
			}

			// Damage the stored current version through the store itself.
			bs := st.(crypt.BodyStore)
			rows, _, err := bs.ScanBodies(ctx, "default", "c:/", 100)
			if err != nil || len(rows) != 1 {
				t.Fatalf("scan: %v, %d rows", err, len(rows))
			}
			damaged := bytes.Replace(rows[0].Body, []byte(`{"_enc":"AQ`), []byte(`{"_enc":"AT`), 1)
			if n, err := bs.ReplaceBodies(ctx, "default", []crypt.BodyReplacement{{Row: rows[0], New: damaged}}); n != 1 || err != nil {
				t.Fatalf("damage: %d, %v", n, err)
			}
			status, body = do("GET", srv.FHIR()+"/Patient/"+created.ID, "")
			var oo struct {
				ResourceType string
				Issue        []struct{ Severity, Code, Diagnostics string }
			}
			if status != 500 || json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
				t.Fatalf("read of damaged data: %d %s; want 500 with an OperationOutcome", status, body)
			}
			if bytes.Contains(body, []byte("HTTPMARKER")) || bytes.Contains(body, []byte("_enc")) {
				t.Errorf("the OperationOutcome reveals data: %s", body)
			}
			if len(failures) != 1 || failures[0] != "Patient/"+created.ID {
				t.Errorf("failures reported: %v", failures)
			}
			// The failed read has its AuditEvent, a serious failure naming
			// the version that did not decrypt.
			entries, err := st.(store.AuditLog).ScanAudit(ctx, "default", store.AuditQuery{})
			if err != nil {
				t.Fatal(err)
			}
			audited := false
			for _, en := range entries {
				audited = audited || bytes.Contains(en.Body, []byte(`"outcome":"8"`)) &&
					bytes.Contains(en.Body, []byte(`"reference":"Patient/`+created.ID+`/_history/1"`)) &&
					bytes.Contains(en.Body, []byte("could not be decrypted"))
			}
			if !audited {
				t.Errorf("no AuditEvent with outcome 8 names Patient/%s/_history/1 among %d", created.ID, len(entries))
			}
			// resource_history holds its own copy of version 1, unharmed: it
			// still reads.
			if status, body = do("GET", srv.FHIR()+"/Patient/"+created.ID+"/_history/1", ""); status != 200 ||
				!bytes.Contains(body, []byte("HTTPMARKER")) {
				t.Errorf("vread of the intact history row: %d %s", status, body)
			}
		})
	}
}
