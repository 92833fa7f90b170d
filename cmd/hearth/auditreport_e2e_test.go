package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/store"
)

// runHearth runs the binary with the storage flags and returns its output.
func runHearth(t *testing.T, storage []string, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, append(args, storage...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var hiddenInput = regexp.MustCompile(`name="(\w+)" value="([^"]*)"`)

// pageLogin starts a SMART launch of app and submits the login page with a
// username and password, as a browser does.
func pageLogin(t *testing.T, base, app, username, password string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	q := url.Values{"response_type": {"code"}, "client_id": {app}, "redirect_uri": {"http://127.0.0.1:9/cb"},
		"scope": {"user/*.rs openid fhirUser"}, "state": {"s"}, "aud": {base + "/fhir"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
	resp, err := c.Get(base + "/oauth2/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	page.ReadFrom(resp.Body)
	resp.Body.Close()
	form := url.Values{"username": {username}, "password": {password}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page.String(), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	if form.Get("id") == "" {
		t.Fatalf("no login form (%d): %.300s", resp.StatusCode, page.String())
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = c.PostForm(base+"/auth/login", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestAuditReport drives a real server (client requests, logins through the
// login page that fail and succeed), then checks what `hearth audit report`
// prints for the period, for one organisation, for an empty period, and
// that bad flags are refused.
func TestAuditReport(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			storage := storageArgs(t, backend)
			for _, u := range [][]string{{"dr.who", "Organization/o1", "Practitioner/p1"}, {"nurse", "Organization/o2", "Practitioner/n1"}} {
				if out, err := runHearth(t, storage, "a long enough secret\n", "user", "create", "--username", u[0],
					"--organization", u[1], "--fhir-user", u[2], "--roles", "practitioner", "--verified", "--password-stdin"); err != nil {
					t.Fatalf("user create: %v\n%s", err, out)
				}
			}
			out, err := runHearth(t, storage, "", "client", "create", "--name", "portal", "--public",
				"--redirect-uri", "http://127.0.0.1:9/cb", "--scope", "user/*.rs openid fhirUser")
			var app struct {
				ClientID string `json:"client_id"`
			}
			if err != nil || json.Unmarshal([]byte(out), &app) != nil {
				t.Fatalf("client create: %v\n%s", err, out)
			}

			p := startServer(t, freeAddr(t), storage)
			token := newToken(t, p.base, storage)
			do := func(method, path, body string, want int) {
				t.Helper()
				req, _ := http.NewRequest(method, p.base+"/fhir"+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/fhir+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("%s %s: %d, want %d", method, path, resp.StatusCode, want)
				}
			}
			do("PUT", "/Communication/c1", `{"resourceType":"Communication","id":"c1","status":"completed"}`, 201)
			do("PUT", "/Communication/c2", `{"resourceType":"Communication","id":"c2","status":"completed"}`, 201)
			do("GET", "/Communication/c1", "", 200)
			do("GET", "/Communication/missing", "", 404)
			for _, l := range []struct {
				user, password string
				want           int
			}{
				{"dr.who", "not the password", 401},
				{"nobody", "whatever it is", 401},
				{"nurse", "not the password", 401},
				{"dr.who", "a long enough secret", 303},
			} {
				if got := pageLogin(t, p.base, app.ClientID, l.user, l.password); got != l.want {
					t.Fatalf("login of %s: %d, want %d", l.user, got, l.want)
				}
			}
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()

			today := time.Now().UTC()
			period := []string{"--from", today.AddDate(0, 0, -1).Format(time.DateOnly), "--to", today.Format(time.DateOnly)}
			out, err = runHearth(t, storage, "", append([]string{"audit", "report"}, period...)...)
			if err != nil {
				t.Fatalf("audit report: %v\n%s", err, out)
			}
			t.Logf("hearth audit report %s:\n%s", strings.Join(period, " "), out)
			for _, want := range []string{
				`(?m)^client \S+\s+create\s+0 success\s+2$`,
				`(?m)^client \S+\s+read\s+0 success\s+1$`,
				`(?m)^client \S+\s+read\s+4 refused\s+1$`,
				`(?m)^dr\.who \(Practitioner/p1\)\s+login\s+0 success\s+1$`,
				`(?m)^dr\.who \(Practitioner/p1\)\s+login\s+4 refused\s+1$`,
				`(?m)^nurse \(Practitioner/n1\)\s+login\s+4 refused\s+1$`,
				`(?m)^\(unknown user\)\s+login\s+4 refused\s+1$`,
				`Failed logins: 3\n`,
				`(?m)^\S+Z\s+dr\.who \(Practitioner/p1\)\s+login\s+127\.0\.0\.1\s+invalid username or password\s+\S+$`,
			} {
				if !regexp.MustCompile(want).MatchString(out) {
					t.Errorf("report lacks %s:\n%s", want, out)
				}
			}

			out, err = runHearth(t, storage, "", append([]string{"audit", "report", "--organization", "Organization/o1"}, period...)...)
			if err != nil {
				t.Fatalf("audit report --organization: %v\n%s", err, out)
			}
			if !strings.Contains(out, "users of Organization/o1") || !strings.Contains(out, "Failed logins: 1\n") ||
				strings.Contains(out, "client ") || strings.Contains(out, "nurse") || strings.Contains(out, "unknown") ||
				strings.Count(out, "dr.who (Practitioner/p1)") != 3 {
				t.Errorf("report for Organization/o1:\n%s", out)
			}

			out, err = runHearth(t, storage, "", "audit", "report", "--from", "2000-01-01", "--to", "2000-01-31")
			if err != nil || !strings.Contains(out, "(none)") || !strings.Contains(out, "Failed logins: 0\n") {
				t.Errorf("report of an empty period: %v\n%s", err, out)
			}
			for _, bad := range [][]string{
				{"--from", "2025-13-01", "--to", "2025-12-31"},
				{"--from", "2025-02-01", "--to", "2025-01-31"},
				{"--to", "2025-01-31"},
				{"--from", "2025-01-01", "--to", "2025-01-31", "--organization", "Practitioner/p1"},
			} {
				if out, err := runHearth(t, storage, "", append([]string{"audit", "report"}, bad...)...); err == nil {
					t.Errorf("audit report %v succeeded:\n%s", bad, out)
				}
			}
		})
	}
}

// TestServeRetention starts `hearth serve` on a store whose audit log has
// entries older than the retention: the job purges them at start, logs
// what it removed, and the chain still verifies; with --audit-retention 0
// nothing goes.
func TestServeRetention(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			storage := storageArgs(t, backend)
			ctx := context.Background()
			log := openAuditLog(t, storage)
			st := log.(store.Store)
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// Ten AuditEvents a day apart, 20.5 to 11.5 days old: far
			// from the 16-day cutoff whenever the server reads its clock.
			for d := 20; d > 10; d-- {
				when := time.Now().AddDate(0, 0, -d).Add(-12 * time.Hour)
				l := audit.NewLog(audit.ServerRef{Name: "hearth"}, audit.WithClock(func() time.Time { return when }))
				rec, err := l.Record(audit.Event{Interaction: "read", Subject: "c", ClientID: "c", Entities: []audit.Ref{{Type: "Patient", ID: "p"}}})
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Tx(ctx, "default", func(tx store.Tx) error { return audit.Append(ctx, tx, rec) }); err != nil {
					t.Fatal(err)
				}
			}

			off := startServerArgs(t, storage, "--audit-retention", "0")
			waitLog(t, off, "audit retention off")
			off.cmd.Process.Signal(syscall.SIGTERM)
			off.cmd.Wait()
			if page, err := log.SearchAudit(ctx, "default", store.AuditSearch{Count: 20}); err != nil || len(page.Entries) != 10 {
				t.Fatalf("with retention off: %d entries, %v", len(page.Entries), err)
			}

			p := startServerArgs(t, storage, "--audit-retention", "16")
			line := waitLog(t, p, "purged AuditEvents")
			var entry struct {
				Tenant  string `json:"tenant"`
				Removed int64  `json:"removed"`
			}
			if err := json.Unmarshal([]byte(line), &entry); err != nil || entry.Tenant != "default" || entry.Removed != 5 {
				t.Errorf("log line %s: %+v, %v; want 5 removed from default", line, entry, err)
			}
			// The job stops with the server.
			p.cmd.Process.Signal(syscall.SIGTERM)
			if err := p.cmd.Wait(); err != nil {
				t.Errorf("serve after SIGTERM: %v\n%s", err, p.log)
			}
			out, err := runHearth(t, storage, "", "audit", "verify")
			if err != nil || !strings.Contains(out, "tenant default: ok, entries 6 to ") {
				t.Errorf("verify after the purge: %v\n%s", err, out)
			}
			if page, err := log.SearchAudit(ctx, "default", store.AuditSearch{Count: 20}); err != nil || len(page.Entries) != 5 {
				t.Errorf("after the purge: %d entries, %v; want the 5 younger than 16 days", len(page.Entries), err)
			}
		})
	}
}

// startServerArgs runs hearth serve with extra flags on a free port.
func startServerArgs(t *testing.T, storage []string, extra ...string) *process {
	t.Helper()
	return startServer(t, freeAddr(t), append(append([]string{}, storage...), extra...))
}

// waitLog waits until the server's log has a line containing s and returns
// it; the server's own start-up deadline bounds the wait.
func waitLog(t *testing.T, p *process, s string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(p.logString()))
		for sc.Scan() {
			if strings.Contains(sc.Text(), s) {
				return sc.Text()
			}
		}
	}
	t.Fatalf("the server never logged %q:\n%s", s, p.logString())
	return ""
}
