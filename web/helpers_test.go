package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

const redirectURI = "http://127.0.0.1:9/cb"

// testerPolicy extends the default access policy for these tests: users
// with the role "tester" may do whatever their SMART scopes allow, so the
// tests see the scope and compartment checks alone. TestDefaultPolicy
// shows both layers together.
const testerPolicy = `package hearth.authz

grants contains {"type": "*", "actions": all_actions, "where": [], "reason": "tests: SMART scopes decide"} if has_role("tester")
`

// clock is the wall clock moved forward by Add: op stamps iat from the
// wall clock, so the server's clock must run along with it.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env is a running Hearth with one tenant, a public SMART app and a
// clinician user.
type env struct {
	t        *testing.T
	srv      *hearthtest.Server
	clock    *clock
	tenant   string
	clientID string
	user     store.User
	password string
	patient  string // a Patient id in the tenant
}

func newEnv(t *testing.T, opts ...hearthtest.Option) *env {
	t.Helper()
	return newEnvOn(t, "sqlite", opts...)
}

// newEnvOn is newEnv on a given store backend.
func newEnvOn(t *testing.T, backend string, opts ...hearthtest.Option) *env {
	t.Helper()
	ck := &clock{}
	st := hearthtest.OpenStore(t, backend)
	policyDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(policyDir, "tester.rego"), []byte(testerPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	opts = append([]hearthtest.Option{func(c *app.Config) { c.Clock = ck.Now; c.PolicyDir = policyDir }}, opts...)
	srv := hearthtest.Start(t, st, opts...)
	e := &env{t: t, srv: srv, clock: ck, tenant: "acme", password: "correct horse battery"}
	ctx := context.Background()
	sysToken := srv.Token(e.tenant, "system/*.cruds")
	var err error
	e.clientID, _, err = auth.RegisterApp(ctx, st, auth.App{Tenant: e.tenant, Name: "Growth Chart", AuthMethod: store.AuthNone,
		RedirectURIs: []string{redirectURI},
		Scopes:       "patient/*.cruds user/*.cruds launch launch/patient openid fhirUser offline_access online_access"})
	if err != nil {
		t.Fatal(err)
	}
	e.user, err = srv.Auth.CreateUser(ctx, auth.NewUser{Tenant: e.tenant, Username: "dr.who", Password: e.password,
		FhirUser: "Practitioner/p1", Roles: []string{"tester"}})
	if err != nil {
		t.Fatal(err)
	}
	e.patient = e.create(sysToken, "Patient", `{"resourceType":"Patient","name":[{"family":"Chalmers","given":["Peter"]}]}`)
	return e
}

// create posts a resource and returns its id.
func (e *env) create(token, typ, body string) string {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.FHIR()+"/"+typ, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create %s: %d %s", typ, resp.StatusCode, b)
	}
	var out struct{ ID string }
	json.Unmarshal(b, &out)
	return out.ID
}

// fhirGet reads a FHIR URL with a token and returns the status and the
// WWW-Authenticate header.
func (e *env) fhirGet(token, path string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.FHIR()+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// browser is a cookie-keeping client that does not follow redirects, so
// each step can be checked.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type response struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, u string, form url.Values) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	loc := resp.Header.Get("Location")
	if loc != "" && strings.HasPrefix(loc, "/") {
		base, _ := url.Parse(u)
		ref, _ := url.Parse(loc)
		loc = base.ResolveReference(ref).String()
	}
	return response{status: resp.StatusCode, location: loc, body: string(raw)}
}

// follow GETs u and follows redirects until a page (200) or a redirect to
// the app's redirect URI.
func (b *browser) follow(u string) response {
	b.t.Helper()
	for range 20 {
		r := b.do(http.MethodGet, u, nil)
		if r.location == "" || strings.HasPrefix(r.location, redirectURI) {
			return r
		}
		u = r.location
	}
	b.t.Fatalf("too many redirects")
	return response{}
}

var hiddenField = regexp.MustCompile(`name="(\w+)" value="([^"]*)"`)

// fields returns a page's hidden form fields.
func fields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		if m[1] != "scope" && m[1] != "decision" {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	return v
}

// pkce returns a verifier and its S256 challenge.
func pkce() (string, string) {
	v := strings.Repeat("abcdefghij", 5)
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds a standalone authorization request.
func (e *env) authorizeURL(scope, challenge string, extra url.Values) string {
	q := url.Values{"response_type": {"code"}, "client_id": {e.clientID}, "redirect_uri": {redirectURI},
		"scope": {scope}, "state": {"st4te"}, "aud": {e.srv.FHIR()}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}}
	for k, v := range extra {
		q[k] = v
	}
	return e.srv.URL + "/oauth2/authorize?" + q.Encode()
}

// login submits the login form the browser is on.
func (e *env) login(b *browser, page response, username, password string) response {
	e.t.Helper()
	f := fields(page.body)
	f.Set("username", username)
	f.Set("password", password)
	return b.do(http.MethodPost, e.srv.URL+"/auth/login", f)
}

// approve submits the consent form with the given scopes (all offered when nil).
func (e *env) approve(b *browser, page response, scopes []string) response {
	e.t.Helper()
	f := fields(page.body)
	if scopes == nil {
		for _, m := range regexp.MustCompile(`name="scope" value="([^"]*)"`).FindAllStringSubmatch(page.body, -1) {
			scopes = append(scopes, html.UnescapeString(m[1]))
		}
	}
	f["scope"] = scopes
	f.Set("decision", "allow")
	r := b.do(http.MethodPost, e.srv.URL+"/auth/consent", f)
	if r.location != "" && !strings.HasPrefix(r.location, redirectURI) {
		return b.follow(r.location)
	}
	return r
}

// codeFrom extracts the code from a redirect to the app, checking state.
func (e *env) codeFrom(r response) string {
	e.t.Helper()
	if !strings.HasPrefix(r.location, redirectURI) {
		e.t.Fatalf("expected a redirect to the app, got %d %s %s", r.status, r.location, r.body)
	}
	u, _ := url.Parse(r.location)
	if u.Query().Get("state") != "st4te" || u.Query().Get("code") == "" {
		e.t.Fatalf("redirect %s lacks code or state", r.location)
	}
	return u.Query().Get("code")
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	Status            int      `json:"-"`
	AccessToken       string   `json:"access_token"`
	RefreshToken      string   `json:"refresh_token"`
	IDToken           string   `json:"id_token"`
	Scope             string   `json:"scope"`
	Patient           string   `json:"patient"`
	Encounter         string   `json:"encounter"`
	FhirUser          string   `json:"fhirUser"`
	NeedPatientBanner bool     `json:"need_patient_banner"`
	Error             string   `json:"error"`
	ExpiresIn         int      `json:"expires_in"`
	Extra             []string `json:"-"`
}

func (e *env) token(form url.Values) tokenResponse {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/oauth2/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &tr); err != nil {
		e.t.Fatalf("token response %d: %s", resp.StatusCode, raw)
	}
	tr.Status = resp.StatusCode
	return tr
}

func (e *env) exchange(code, verifier string) tokenResponse {
	return e.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {e.clientID}, "code_verifier": {verifier}})
}

func (e *env) refresh(rt string) tokenResponse {
	return e.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.clientID}})
}

// launch runs a whole standalone launch: authorize, login, patient picker
// (choosing e.patient), consent with all offered scopes, code exchange.
func (e *env) launch(scope string) tokenResponse {
	e.t.Helper()
	return e.launchIn(newBrowser(e.t), scope)
}

// launchIn is launch in browser b, whose login session it starts or reuses.
func (e *env) launchIn(b *browser, scope string) tokenResponse {
	e.t.Helper()
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL(scope, challenge, nil))
	if strings.Contains(page.body, `name="password"`) { // not signed in yet
		r := e.login(b, page, "dr.who", e.password)
		page = b.follow(r.location)
	}
	if strings.Contains(page.body, "Choose a patient") {
		page = b.follow(e.srv.URL + "/auth/consent?id=" + url.QueryEscape(fields(page.body).Get("id")) + "&patient=" + e.patient)
	}
	tr := e.exchange(e.codeFrom(e.approve(b, page, nil)), verifier)
	if tr.Status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %s", tr.Status, tr.Error)
	}
	return tr
}

// claims decodes a JWT's payload without verifying it.
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	json.Unmarshal(raw, &m)
	return m
}

func authLaunch(patient, encounter string) auth.LaunchContext {
	return auth.LaunchContext{Patient: patient, Encounter: encounter}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
