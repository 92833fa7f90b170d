package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// keyStatus is GET /admin/keys/status as a client reads it.
type keyStatus struct {
	Tenant         string
	CurrentVersion int
	Counted        bool
	Keys           []struct {
		Version  int
		Current  bool
		NoKey    bool
		Elements *int
		Bodies   *int
	}
	Reencryption *struct {
		Running                                     bool
		TargetVersion, Pass, Done, Total, Rewritten int
		Failed                                      int
		Started                                     time.Time
		Finished                                    *time.Time
		Error                                       string
	}
}

// client calls a test server with a bearer token.
type client struct {
	t     *testing.T
	token string
}

func (c client) do(method, url, body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Error(err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c client) status(base string, counts bool) keyStatus {
	c.t.Helper()
	code, body := c.do("GET", base+"/admin/keys/status?counts="+strconv.FormatBool(counts), "")
	var ks keyStatus
	if code != 200 || json.Unmarshal(body, &ks) != nil {
		c.t.Fatalf("key status: %d %s", code, body)
	}
	return ks
}

// TestRotateOnServerUnderLoad rotates the data key through the admin API
// of a running server while writers create and update resources over HTTP:
// the rotation answers at once, a second one is refused while the first
// re-encrypts, the status reports progress until the re-encryption ends,
// no write fails or is lost, every stored row ends on the new key version,
// and the metrics and the audit log tell the same story.
func TestRotateOnServerUnderLoad(t *testing.T) {
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) {
			st := hearthtest.OpenStore(t, backend)
			master, _ := crypt.NewLocalWrapper(bytes.Repeat([]byte{1}, crypt.KeySize))
			dir, err := crypt.NewTenantDir(t.TempDir(), master)
			if err != nil {
				t.Fatal(err)
			}
			// A short refresh: the re-encryption waits that long for other
			// servers to take up the new version before its last pass.
			ring := crypt.NewRing(st.(crypt.KeyStore), dir, crypt.WithRefresh(time.Second))
			enc := &engine.Encryption{Ring: ring, Elements: crypt.DefaultElements()}
			srv := hearthtest.Start(t, st, func(c *app.Config) { c.Encryption = enc; c.Metrics = true })
			admin := client{t, srv.Token("default", "system/*.cruds")}
			reader := client{t, srv.Token("default", "system/*.rs")}

			type acked struct {
				version int
				text    string
			}
			var mu sync.Mutex
			last := map[string]acked{}
			writes := 0
			write := func(worker, n int) error {
				text := fmt.Sprintf("ROTMARK-w%d-n%d", worker, n)
				mu.Lock()
				id, prev := "", acked{}
				if n%3 == 2 {
					for k, a := range last {
						if strings.Contains(a.text, fmt.Sprintf("-w%d-", worker)) {
							id, prev = k, a
							break
						}
					}
				}
				mu.Unlock()
				body := `{"resourceType":"Communication","status":"completed","payload":[{"contentString":"` + text + `"}]}`
				method, url, want := "POST", srv.FHIR()+"/Communication", 201
				if id != "" {
					body = strings.Replace(body, `{"resourceType":"Communication",`, `{"resourceType":"Communication","id":"`+id+`",`, 1)
					method, url, want = "PUT", srv.FHIR()+"/Communication/"+id, 200
				}
				req, _ := http.NewRequest(method, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin.token)
				req.Header.Set("Content-Type", "application/fhir+json")
				if id != "" {
					req.Header.Set("If-Match", fmt.Sprintf(`W/"%d"`, prev.version))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return err
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var res struct {
					ID   string
					Meta struct{ VersionID string }
				}
				if resp.StatusCode != want || json.Unmarshal(b, &res) != nil {
					return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, b)
				}
				v, _ := strconv.Atoi(res.Meta.VersionID)
				mu.Lock()
				last[res.ID] = acked{v, text}
				writes++
				mu.Unlock()
				return nil
			}
			for n := range 60 {
				if err := write(0, n); err != nil {
					t.Fatal(err)
				}
			}
			if ks := admin.status(srv.URL, true); ks.CurrentVersion != 1 || len(ks.Keys) != 1 || ks.Reencryption != nil {
				t.Fatalf("status before rotation: %+v", ks)
			}
			if code, _ := reader.do("POST", srv.URL+"/admin/keys/rotate", ""); code != 403 {
				t.Errorf("rotation by a token without write scopes: %d, want 403", code)
			}

			stop := make(chan struct{})
			var wg sync.WaitGroup
			for worker := 1; worker <= 3; worker++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						if err := write(worker, n); err != nil {
							t.Errorf("worker %d: %v", worker, err)
							return
						}
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			code, body := admin.do("POST", srv.URL+"/admin/keys/rotate", "")
			var rotated keyStatus
			if code != 202 || json.Unmarshal(body, &rotated) != nil || rotated.CurrentVersion != 2 ||
				rotated.Reencryption == nil || !rotated.Reencryption.Running || rotated.Reencryption.TargetVersion != 2 {
				t.Fatalf("rotate: %d %s", code, body)
			}
			if code, body := admin.do("POST", srv.URL+"/admin/keys/rotate", ""); code != 409 {
				t.Errorf("second rotation while re-encrypting: %d %s, want 409", code, body)
			}
			// Progress as the status reports it, until the end.
			var progress []string
			var final keyStatus
			for deadline := time.Now().Add(2 * time.Minute); ; {
				final = admin.status(srv.URL, false)
				re := final.Reencryption
				if re == nil {
					t.Fatal("no re-encryption in the status")
				}
				progress = append(progress, fmt.Sprintf("pass %d %d/%d", re.Pass, re.Done, re.Total))
				if !re.Running {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("re-encryption still running after 2 minutes: %v", progress)
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond) // writes after the re-encryption too
			close(stop)
			wg.Wait()

			re := final.Reencryption
			if re.Error != "" || re.Failed != 0 || re.Rewritten < 60 || re.Pass < 2 || re.Done != re.Total || re.Finished == nil {
				t.Errorf("re-encryption ended as %+v", *re)
			}
			ks := admin.status(srv.URL, true)
			total, _ := st.(crypt.BodyStore).CountBodies(t.Context(), "default")
			if len(ks.Keys) != 2 || *ks.Keys[0].Elements != 0 || *ks.Keys[0].Bodies != 0 ||
				!ks.Keys[1].Current || *ks.Keys[1].Bodies != total || total != writes+len(last) {
				t.Errorf("after rotation: %+v with %d stored bodies (%d writes, %d resources); want everything on version 2",
					ks.Keys, total, writes, len(last))
			}
			for id, a := range last {
				code, body := reader.do("GET", srv.FHIR()+"/Communication/"+id, "")
				if code != 200 || !bytes.Contains(body, []byte(a.text)) || !bytes.Contains(body, []byte(`"versionId":"`+strconv.Itoa(a.version)+`"`)) {
					t.Errorf("%s: %d %s; want version %d with %s", id, code, body, a.version, a.text)
				}
			}

			// The metrics: the re-encryption's gauges and the requests.
			rec := httptest.NewRecorder()
			srv.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			m := rec.Body.String()
			for _, want := range []string{
				`hearth_reencrypt_running{tenant="default"} 0`,
				`hearth_reencrypt_target_version{tenant="default"} 2`,
				`hearth_reencrypt_error{tenant="default"} 0`,
				fmt.Sprintf(`hearth_reencrypt_rewritten_rows{tenant="default"} %d`, re.Rewritten),
				`hearth_http_requests_total{class="4xx",interaction="admin"} 2`,
			} {
				if !strings.Contains(m, want+"\n") {
					t.Errorf("metrics lack %q", want)
				}
			}
			for _, in := range []string{"create", "update", "read", "admin"} {
				if !regexp.MustCompile(`hearth_http_requests_total\{class="2xx",interaction="`+in+`"\} [1-9]`).MatchString(m) ||
					!regexp.MustCompile(`hearth_http_request_duration_seconds_count\{interaction="`+in+`"\} [1-9]`).MatchString(m) {
					t.Errorf("no 2xx %s requests counted and timed", in)
				}
			}
			// Every request above committed through the audit committer.
			if !regexp.MustCompile(`hearth_audit_groups_total\{outcome="committed"\} [1-9]`).MatchString(m) ||
				!regexp.MustCompile(`hearth_audit_group_requests_count [1-9]`).MatchString(m) ||
				!regexp.MustCompile(`hearth_audit_group_commit_seconds_count [1-9]`).MatchString(m) {
				t.Error("no audit group commits counted")
			}
			if t.Failed() {
				t.Logf("progress: %v\nmetrics:\n%s", progress, grepLines(m, "hearth_"))
			}

			// The rotation and the end of the re-encryption are audited.
			entries, err := st.(store.AuditLog).ScanAudit(t.Context(), "default", store.AuditQuery{Limit: 100000})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]bool{}
			for _, en := range entries {
				for _, op := range []string{"$rotate-keys", "$reencrypt"} {
					if bytes.Contains(en.Body, []byte(`"code":"`+op+`"`)) && bytes.Contains(en.Body, []byte(`"outcome":"0"`)) {
						ops[op] = true
					}
				}
			}
			if !ops["$rotate-keys"] || !ops["$reencrypt"] {
				t.Errorf("successful key operations audited: %v", ops)
			}
			t.Logf("%d writes during the test; %d bodies re-encrypted in %d passes; progress seen: %v",
				writes, re.Rewritten, re.Pass, progress)
		})
	}
}

// grepLines keeps the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
