package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// openAuditLog opens the store behind storage flags, for reading its audit log.
func openAuditLog(t *testing.T, storage []string) store.AuditLog {
	t.Helper()
	ctx := context.Background()
	var (
		st  store.Store
		err error
	)
	if storage[0] == "--database-url" {
		st, err = postgres.Open(ctx, storage[1])
	} else {
		st, err = sqlite.Open(ctx, filepath.Join(storage[1], "hearth.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(store.AuditLog)
}

// auditedRefs lists "subtype entity" for every AuditEvent of the default tenant.
func auditedRefs(t *testing.T, log store.AuditLog) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var after int64
	for {
		es, err := log.ScanAudit(context.Background(), "default", store.AuditQuery{After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			var ae struct {
				Subtype []struct{ Code string }
				Entity  []struct{ What *struct{ Reference string } }
			}
			if err := json.Unmarshal(e.Body, &ae); err != nil {
				t.Fatal(err)
			}
			for _, en := range ae.Entity {
				if en.What != nil {
					out[ae.Subtype[0].Code+" "+en.What.Reference] = true
				}
			}
			after = e.Seq
		}
	}
}

// TestAuditSurvivesSIGKILL kills the server under mixed reads and writes and
// checks that every request that got a 2xx has its AuditEvent, and that
// `hearth audit verify` passes; then edits one AuditEvent row and checks
// that verify fails at that row.
func TestAuditSurvivesSIGKILL(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			storage := storageArgs(t, backend)
			addr := freeAddr(t)
			p := startServer(t, addr, storage)
			token := newToken(t, p.base, storage)
			client := &http.Client{Timeout: 5 * time.Second}
			do := func(method, url, body string) (int, string) {
				req, _ := http.NewRequest(method, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/fhir+json")
				resp, err := client.Do(req)
				if err != nil {
					return 0, ""
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode, resp.Header.Get("Location")
			}
			var (
				mu    sync.Mutex
				acked []string // "subtype Type/id/_history/v"
				wg    sync.WaitGroup
			)
			stop := time.Now().Add(10 * time.Second)
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 2000 && time.Now().Before(stop); i++ {
						body := fmt.Sprintf(`{"resourceType":"Communication","status":"completed","payload":[{"contentString":"w%d-%d"}]}`, w, i)
						code, loc := do("POST", p.base+"/fhir/Communication", body)
						if code == 0 {
							return
						}
						if code != http.StatusCreated {
							continue
						}
						ref := loc[strings.Index(loc, "/fhir/")+len("/fhir/"):]
						mu.Lock()
						acked = append(acked, "create "+ref)
						mu.Unlock()
						// Read it back twice: reads are audited through group commit.
						for range 2 {
							code, _ := do("GET", p.base+"/fhir/"+ref, "")
							if code == 0 {
								return
							}
							if code == http.StatusOK {
								mu.Lock()
								acked = append(acked, "vread "+ref)
								mu.Unlock()
							}
						}
					}
				}()
			}
			time.Sleep(1500 * time.Millisecond)
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			p.cmd.Wait()
			wg.Wait()
			if len(acked) < 30 {
				t.Fatalf("only %d requests acknowledged before the kill", len(acked))
			}

			out, err := exec.Command(binary, append([]string{"audit", "verify"}, storage...)...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "tenant default: ok") {
				t.Fatalf("audit verify after SIGKILL: %v\n%s", err, out)
			}
			have := auditedRefs(t, openAuditLog(t, storage))
			for _, a := range acked {
				if !have[a] {
					t.Errorf("acknowledged %q has no AuditEvent", a)
				}
			}
			t.Logf("%s: %d acknowledged requests, each with its AuditEvent; %s", backend, len(acked), strings.TrimSpace(string(out)))

			if backend == "sqlite" {
				raw, err := sql.Open("sqlite", filepath.Join(storage[1], "hearth.db"))
				if err != nil {
					t.Fatal(err)
				}
				_, err = raw.Exec(`UPDATE audit_events SET body = replace(body, 'Communication', 'Observation') WHERE tenant_id = 'default' AND seq = 5`)
				raw.Close()
				if err != nil {
					t.Fatal(err)
				}
				out, err = exec.Command(binary, append([]string{"audit", "verify"}, storage...)...).CombinedOutput()
				if err == nil || !strings.Contains(string(out), "BROKEN at entry 5 ") {
					t.Fatalf("audit verify after an edit: %v\n%s", err, out)
				}
			}
		})
	}
}
