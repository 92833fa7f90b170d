package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/hearthtest"
)

// PKCE: public clients must send an S256 challenge, and the code only
// exchanges with the matching verifier; aud must be the FHIR base URL.
func TestAuthorizeRefusals(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	_, challenge := pkce()
	for _, tc := range []struct {
		name  string
		extra url.Values
		want  string
	}{
		{"no challenge", url.Values{"code_challenge": {""}, "code_challenge_method": {""}}, "error=invalid_request"},
		{"plain challenge", url.Values{"code_challenge_method": {"plain"}}, "error=invalid_request"},
		{"wrong aud", url.Values{"aud": {"https://other.example/fhir"}}, "error=invalid_request"},
		{"missing aud", url.Values{"aud": {""}}, "error=invalid_request"},
		{"malformed scope", url.Values{"scope": {"patient/Observation.xyz"}}, "error=invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.follow(e.authorizeURL("patient/*.rs launch/patient", challenge, tc.extra))
			if !strings.HasPrefix(r.location, redirectURI) || !strings.Contains(r.location, tc.want) || !strings.Contains(r.location, "state=st4te") {
				t.Errorf("got %d %s, want a redirect with %s", r.status, r.location, tc.want)
			}
		})
	}
	t.Run("unregistered redirect_uri is not redirected to", func(t *testing.T) {
		u := strings.Replace(e.authorizeURL("patient/*.rs", challenge, nil), url.QueryEscape(redirectURI), url.QueryEscape("http://127.0.0.1:9/evil"), 1)
		if r := b.follow(u); r.location != "" || r.status != http.StatusBadRequest {
			t.Errorf("got %d %s", r.status, r.location)
		}
	})
	t.Run("wrong code_verifier", func(t *testing.T) {
		page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
		if strings.Contains(page.body, `name="password"`) {
			page = b.follow(e.login(b, page, "dr.who", e.password).location)
		}
		code := e.codeFrom(e.approve(b, page, nil))
		if tr := e.exchange(code, strings.Repeat("x", 50)); tr.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
			t.Errorf("wrong verifier: %+v", tr)
		}
		// The code is spent by the failed attempt.
		v, _ := pkce()
		if tr := e.exchange(code, v); tr.Status != http.StatusBadRequest {
			t.Errorf("code after a failed exchange: %+v", tr)
		}
	})
	t.Run("missing code_verifier", func(t *testing.T) {
		page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
		code := e.codeFrom(e.approve(b, page, nil))
		if tr := e.exchange(code, ""); tr.Status != http.StatusBadRequest {
			t.Errorf("missing verifier: %+v", tr)
		}
	})
	t.Run("code used twice", func(t *testing.T) {
		v, c := pkce()
		page := b.follow(e.authorizeURL("user/Patient.rs", c, nil))
		code := e.codeFrom(e.approve(b, page, nil))
		if tr := e.exchange(code, v); tr.Status != http.StatusOK {
			t.Fatalf("first exchange: %+v", tr)
		}
		if tr := e.exchange(code, v); tr.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
			t.Errorf("second exchange: %+v", tr)
		}
	})
}

// Refresh tokens rotate; presenting a used one revokes the whole chain. On
// both stores: refresh tokens, sessions and codes live in the database.
func TestRefreshRotationAndReuse(t *testing.T) {
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) { testRefreshRotationAndReuse(t, newEnvOn(t, backend)) })
	}
}

func testRefreshRotationAndReuse(t *testing.T, e *env) {
	first := e.launch("launch/patient patient/*.rs offline_access")
	second := e.refresh(first.RefreshToken)
	if second.Status != http.StatusOK || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken ||
		second.Patient != e.patient || second.Scope != first.Scope {
		t.Fatalf("refresh = %+v", second)
	}
	if s, _ := e.fhirGet(second.AccessToken, "/Patient/"+e.patient); s != http.StatusOK {
		t.Errorf("refreshed access token: %d", s)
	}
	// Narrowing on refresh.
	third := e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken},
		"client_id": {e.clientID}, "scope": {"patient/*.rs"}})
	if third.Status != http.StatusOK || third.Scope != "patient/*.rs" {
		t.Fatalf("narrowed refresh = %+v", third)
	}
	// Replaying the first token: refused, and the chain's newest token dies too.
	if r := e.refresh(first.RefreshToken); r.Status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Errorf("reuse = %+v", r)
	}
	if r := e.refresh(third.RefreshToken); r.Status != http.StatusBadRequest {
		t.Errorf("chain after reuse = %+v, want revoked", r)
	}
	// online_access gets a refresh token too, and its scope is reported as granted.
	on := e.launch("launch/patient patient/*.rs online_access")
	if on.RefreshToken == "" || strings.Contains(on.Scope, "offline_access") {
		t.Errorf("online_access = %+v", on)
	}
	if r := e.refresh(on.RefreshToken); r.Status != http.StatusOK || strings.Contains(r.Scope, "offline_access") {
		t.Errorf("online_access refresh = %+v", r)
	}
}

// An online_access refresh token works while its login session lives:
// signing out ends it, while an offline_access token of the same login
// keeps working.
func TestOnlineAccessEndsWithTheLogin(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	on := e.launchIn(b, "launch/patient patient/*.rs online_access")
	off := e.launchIn(b, "launch/patient patient/*.rs offline_access")
	if on.RefreshToken == "" || off.RefreshToken == "" {
		t.Fatalf("refresh tokens: online %q, offline %q", on.RefreshToken, off.RefreshToken)
	}
	r := e.refresh(on.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatalf("online_access refresh while signed in = %+v", r)
	}
	b.do(http.MethodGet, e.srv.URL+"/oauth2/logout", nil)
	if r := e.refresh(r.RefreshToken); r.Status != http.StatusBadRequest || r.Error != "invalid_grant" {
		t.Errorf("online_access refresh after sign-out = %+v, want invalid_grant", r)
	}
	if r := e.refresh(off.RefreshToken); r.Status != http.StatusOK {
		t.Errorf("offline_access refresh after sign-out = %+v", r)
	}
}

// Five wrong passwords lock the account for the lockout duration: even the
// right password fails until it has passed.
func TestLockout(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.Login.MaxFailures = 3; c.Login.LockoutDuration = 10 * time.Minute })
	for i := range 3 {
		if _, err := e.srv.Auth.Login(t.Context(), e.tenant, "dr.who", "wrong password"); err == nil {
			t.Fatalf("failure %d accepted", i)
		}
	}
	_, err := e.srv.Auth.Login(t.Context(), e.tenant, "dr.who", e.password)
	if !errorsIs(err, auth.ErrLocked) {
		t.Fatalf("right password while locked: %v, want locked", err)
	}
	// Through the page the lock looks like any other failure.
	b := newBrowser(t)
	_, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	if r := e.login(b, page, "dr.who", e.password); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Invalid username or password") {
		t.Errorf("locked login page: %d", r.status)
	}
	e.clock.Add(11 * time.Minute)
	if _, err := e.srv.Auth.Login(t.Context(), e.tenant, "dr.who", e.password); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
	// Unknown users fail the same way and lock nothing.
	if _, err := e.srv.Auth.Login(t.Context(), e.tenant, "nobody", "x"); err == nil {
		t.Error("unknown user accepted")
	}
}

// A session idle for longer than the idle timeout, or older than the
// absolute lifetime, is over.
func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, func(c *app.Config) { c.Login.IdleTimeout = 30 * time.Minute; c.Login.SessionLifetime = 2 * time.Hour })
	b := newBrowser(t)
	_, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	b.follow(e.login(b, page, "dr.who", e.password).location)
	consentURL := func() string {
		_, c := pkce()
		return e.authorizeURL("user/Patient.rs", c, nil)
	}
	// Used every 25 minutes, the session lives on …
	for range 4 {
		e.clock.Add(25 * time.Minute)
		if p := b.follow(consentURL()); !strings.Contains(p.body, "Allow access?") {
			t.Fatalf("active session ended early: %s", p.body)
		}
	}
	// … until its absolute lifetime is over.
	e.clock.Add(25 * time.Minute)
	if p := b.follow(consentURL()); !strings.Contains(p.body, `name="password"`) {
		t.Errorf("session past its lifetime still open")
	}
	// A fresh session idle for 31 minutes is over.
	page = b.follow(consentURL())
	b.follow(e.login(b, page, "dr.who", e.password).location)
	e.clock.Add(31 * time.Minute)
	if p := b.follow(consentURL()); !strings.Contains(p.body, `name="password"`) {
		t.Errorf("idle session still open")
	}
}

// A password change revokes the user's sessions, refresh tokens and the
// access tokens issued before it; so does "sign out everywhere".
func TestPasswordChangeRevokesEverything(t *testing.T) {
	for _, how := range []string{"password", "signout"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			tr := e.launch("launch/patient patient/*.rs offline_access")
			b := newBrowser(t)
			_, challenge := pkce()
			page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
			b.follow(e.login(b, page, "dr.who", e.password).location)
			admin := e.adminToken()
			path := "/auth/admin/users/" + e.user.ID + "/signout"
			body := ""
			if how == "password" {
				path, body = "/auth/admin/users/"+e.user.ID+"/password", `{"password":"a brand new passphrase"}`
			}
			if s := e.adminPost(admin, path, body, nil); s != http.StatusNoContent {
				t.Fatalf("admin %s: %d", how, s)
			}
			if s, wa := e.fhirGet(tr.AccessToken, "/Patient/"+e.patient); s != http.StatusUnauthorized || !strings.Contains(wa, "invalid_token") {
				t.Errorf("old access token: %d %q", s, wa)
			}
			if r := e.refresh(tr.RefreshToken); r.Status != http.StatusBadRequest {
				t.Errorf("old refresh token: %+v", r)
			}
			_, challenge = pkce()
			if p := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil)); !strings.Contains(p.body, `name="password"`) {
				t.Errorf("old session still open")
			}
			if how == "password" {
				if _, err := e.srv.Auth.Login(t.Context(), e.tenant, "dr.who", e.password); err == nil {
					t.Error("old password still works")
				}
				if _, err := e.srv.Auth.Login(t.Context(), e.tenant, "dr.who", "a brand new passphrase"); err != nil {
					t.Errorf("new password: %v", err)
				}
			}
		})
	}
}

// adminToken is a client_credentials token able to use the admin API.
func (e *env) adminToken() string { return e.srv.Token(e.tenant, "system/*.cruds") }

func (e *env) adminPost(token, path, body string, out any) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(raw, out)
	}
	return resp.StatusCode
}

// A confidential app (client_secret_basic) uses the code grant too, with
// its secret at the token endpoint; a wrong secret is invalid_client.
func TestConfidentialClientCodeGrant(t *testing.T) {
	e := newEnv(t)
	id, secret, err := auth.RegisterApp(t.Context(), e.srv.Store, auth.App{Tenant: e.tenant, Name: "EHR portal",
		RedirectURIs: []string{redirectURI}, Scopes: "user/*.rs openid fhirUser offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	e.clientID = id
	b := newBrowser(t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL("user/*.rs openid fhirUser", challenge, nil))
	page = b.follow(e.login(b, page, "dr.who", e.password).location)
	code := e.codeFrom(e.approve(b, page, nil))
	post := func(user, pass string) tokenResponse {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth2/token", strings.NewReader(url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tr tokenResponse
		json.NewDecoder(resp.Body).Decode(&tr)
		tr.Status = resp.StatusCode
		return tr
	}
	if tr := post(id, "wrong"); tr.Status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("wrong secret: %+v", tr)
	}
	// The failed attempt spent that code; a new one works with the secret.
	_, challenge = pkce()
	page = b.follow(e.authorizeURL("user/*.rs openid fhirUser", challenge, nil))
	code = e.codeFrom(e.approve(b, page, nil))
	if tr := post(id, secret); tr.Status != http.StatusOK || tr.IDToken == "" || tr.Scope != "user/*.rs openid fhirUser" {
		t.Errorf("confidential exchange: %+v", tr)
	}
}

// Refresh tokens, login sessions and codes live in the store: a server
// started afresh over the same database honours them.
func TestStateSurvivesRestart(t *testing.T) {
	e := newEnvOn(t, "postgres")
	b := newBrowser(t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL("launch/patient patient/*.rs offline_access", challenge, nil))
	page = b.follow(e.login(b, page, "dr.who", e.password).location)
	page = b.follow(e.srv.URL + "/auth/consent?id=" + url.QueryEscape(fields(page.body).Get("id")) + "&patient=" + e.patient)
	code := e.codeFrom(e.approve(b, page, nil))

	// A second server over the same store (another port: cookies are per
	// host, so the browser's session cookie goes to it too).
	first := e.srv
	e.srv = hearthtest.Start(t, first.Store, func(c *app.Config) { c.Clock = e.clock.Now })
	tr := e.exchange(code, verifier)
	if tr.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("code issued before the restart: %+v", tr)
	}
	if r := e.refresh(tr.RefreshToken); r.Status != http.StatusOK {
		t.Errorf("refresh after the restart: %+v", r)
	}
	_, challenge = pkce()
	if p := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil)); !strings.Contains(p.body, "Allow access?") {
		t.Errorf("login session lost in the restart: %s", p.body)
	}
}
