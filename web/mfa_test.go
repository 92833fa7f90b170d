package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/auth"
)

// With MFA required for a role, the first login enrols a TOTP key; later
// logins ask for a code; wrong codes fail and count towards the lockout;
// a code works once.
func TestTOTPEnrolmentAndVerification(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.Login.MFARoles = []string{"tester"}; c.Login.MaxFailures = 4 })
	b := newBrowser(t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	page = b.follow(e.login(b, page, "dr.who", e.password).location)
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no enrolment page: %s", page.body)
	}
	secret := m[1]
	// Consent cannot be reached around the second factor.
	if p := b.follow(e.srv.URL + "/auth/consent?id=" + url.QueryEscape(fields(page.body).Get("id"))); strings.Contains(p.body, "Allow access?") {
		t.Fatal("consent reachable before MFA")
	}
	code, _ := auth.TOTPCode(secret, e.clock.Now())
	f := fields(page.body)
	f.Set("code", code)
	r := b.do(http.MethodPost, e.srv.URL+"/auth/mfa/enrol", f)
	if r.location == "" {
		t.Fatalf("enrolment refused: %d %s", r.status, r.body)
	}
	page = b.follow(r.location)
	if !strings.Contains(page.body, "Allow access?") {
		t.Fatalf("after enrolment: %s", page.body)
	}
	tr := e.exchange(e.codeFrom(e.approve(b, page, nil)), verifier)
	if tr.Status != 200 {
		t.Fatalf("token after MFA: %+v", tr)
	}

	// A new browser: password, then a code.
	b2 := newBrowser(t)
	_, challenge = pkce()
	page = b2.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	page = b2.follow(e.login(b2, page, "dr.who", e.password).location)
	if !strings.Contains(page.body, "Enter the code") {
		t.Fatalf("no code page: %s", page.body)
	}
	f = fields(page.body)
	f.Set("code", "000000")
	if r := b2.do(http.MethodPost, e.srv.URL+"/auth/mfa", f); r.status != http.StatusUnauthorized {
		t.Errorf("wrong code: %d", r.status)
	}
	f.Set("code", code) // already used at enrolment
	if r := b2.do(http.MethodPost, e.srv.URL+"/auth/mfa", f); r.status != http.StatusUnauthorized {
		t.Errorf("replayed code: %d", r.status)
	}
	e.clock.Add(60 * time.Second)
	code, _ = auth.TOTPCode(secret, e.clock.Now())
	f.Set("code", code)
	if p := b2.follow(b2.do(http.MethodPost, e.srv.URL+"/auth/mfa", f).location); !strings.Contains(p.body, "Allow access?") {
		t.Errorf("right code: %s", p.body)
	}
}

// Introspection reports live tokens with their SMART context and dead ones
// inactive; userinfo names the user; logout ends the browser session.
func TestIntrospectUserinfoLogout(t *testing.T) {
	e := newEnv(t)
	tr := e.launch("launch/patient patient/*.rs openid fhirUser offline_access")
	introspect := func(token string) map[string]any {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return m
	}
	if m := introspect(tr.AccessToken); m["active"] != true || m["patient"] != e.patient || m["scope"] != tr.Scope || m["sub"] != e.user.ID {
		t.Errorf("introspect access token = %v", m)
	}
	if m := introspect("nonsense"); m["active"] != false {
		t.Errorf("introspect nonsense = %v", m)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"fhirUser":"`+e.srv.FHIR()+`/Practitioner/p1"`) || !strings.Contains(string(raw), `"preferred_username":"dr.who"`) {
		t.Errorf("userinfo = %d %s", resp.StatusCode, raw)
	}
	// Revoking the refresh token (a public client names itself) kills it.
	resp, err = http.PostForm(e.srv.URL+"/oauth2/revoke", url.Values{"token": {tr.RefreshToken}, "client_id": {e.clientID}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	if r := e.refresh(tr.RefreshToken); r.Status != 400 {
		t.Errorf("revoked refresh token: %+v", r)
	}
	// Logout.
	b := newBrowser(t)
	_, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	b.follow(e.login(b, page, "dr.who", e.password).location)
	r := b.do(http.MethodGet, e.srv.URL+"/oauth2/logout?client_id="+e.clientID+"&post_logout_redirect_uri="+url.QueryEscape(redirectURI)+"&state=s1", nil)
	if r.location != redirectURI+"?state=s1" {
		t.Errorf("logout redirect = %d %q", r.status, r.location)
	}
	_, challenge = pkce()
	if p := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil)); !strings.Contains(p.body, `name="password"`) {
		t.Error("session survived logout")
	}
	if r := b.do(http.MethodGet, e.srv.URL+"/oauth2/logout?client_id="+e.clientID+"&post_logout_redirect_uri=https://evil.example/", nil); r.location != "" {
		t.Errorf("logout redirected to an unregistered URI: %s", r.location)
	}
}

// Logins and token requests are rate-limited per IP (and per client).
func TestRateLimits(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.RateLimit = auth.RateLimit{PerMinute: 1, Burst: 5} })
	got429 := false
	for range 8 {
		resp, err := http.PostForm(e.srv.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			got429 = true
		}
	}
	if !got429 {
		t.Error("token endpoint never answered 429")
	}
	b := newBrowser(t)
	_, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	if page.status == http.StatusTooManyRequests {
		return // the shared IP budget is spent already; that is the point
	}
	var last int
	for range 6 {
		last = e.login(b, page, "dr.who", "wrong password").status
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("login after the burst: %d, want 429", last)
	}
}
