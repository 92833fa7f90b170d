package web_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/auth"
)

// idp is a real OpenID provider (zitadel's example OP) on loopback.
type idp struct {
	ts     *httptest.Server
	issuer string
}

// newIdP prepares a provider; it starts serving once start is called, so
// clients can be registered with URLs known only later.
func newIdP(t *testing.T) *idp {
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	return &idp{ts: ts, issuer: "http://" + ts.Listener.Addr().String()}
}

func (p *idp) start(t *testing.T, clients ...*storage.Client) {
	storage.RegisterClients(clients...)
	st := storage.NewStorage(storage.NewUserStore(p.issuer))
	p.ts.Config.Handler = exampleop.SetupServer(p.issuer, st, slog.New(slog.DiscardHandler), false)
	p.ts.Start()
}

// signIn drives the provider's own login form with the browser, starting at
// an authorization URL, and returns the redirect back to the relying party.
func (p *idp) signIn(t *testing.T, b *browser, authURL, stopAt string) response {
	t.Helper()
	u := authURL
	for range 10 {
		r := b.do(http.MethodGet, u, nil)
		if strings.HasPrefix(r.location, stopAt) {
			return r
		}
		if r.location == "" {
			f := fields(r.body)
			if f.Get("id") == "" {
				t.Fatalf("IdP page %s without a login form: %d %s", u, r.status, r.body)
			}
			f.Set("username", "test-user@127.0.0.1")
			f.Set("password", "verysecure")
			r = b.do(http.MethodPost, p.issuer+"/login/username", f)
			if strings.HasPrefix(r.location, stopAt) {
				return r
			}
		}
		u = r.location
	}
	t.Fatal("IdP sign-in did not finish")
	return response{}
}

// idToken runs a code flow at the provider as client id and returns the ID token.
func (p *idp) idToken(t *testing.T, id, secret, redirect string) string {
	t.Helper()
	b := newBrowser(t)
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {redirect}, "scope": {"openid"}, "state": {"s"}}
	r := p.signIn(t, b, p.issuer+"/auth?"+q.Encode(), redirect)
	u, _ := url.Parse(r.location)
	req, _ := http.NewRequest(http.MethodPost, p.issuer+"/oauth/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")}, "redirect_uri": {redirect}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var tr struct {
		IDToken string `json:"id_token"`
	}
	if json.Unmarshal(raw, &tr) != nil || tr.IDToken == "" {
		t.Fatalf("IdP token response: %d %s", resp.StatusCode, raw)
	}
	return tr.IDToken
}

// A trusted external provider: its tokens are accepted as bearer tokens
// (checked by go-oidc against its discovery keys), a token of an untrusted
// provider is refused, and "Sign in with" on the login page logs the user in
// through the provider, after which Hearth issues its own tokens.
func TestExternalIdentityProvider(t *testing.T) {
	trusted, untrusted := newIdP(t), newIdP(t)
	e := newEnv(t, func(c *app.Config) {
		c.TrustedIssuers = []auth.TrustedIssuer{{
			Issuer: trusted.issuer, Audience: "fhir-app", Tenant: "acme", Scopes: "user/Patient.rs", Roles: []string{"tester"},
			Name: "Hospital IdP", ClientID: "hearth-web", ClientSecret: "hearth-secret",
		}}
	})
	// The provider's user "id1" (its sub) is a Hearth user of the tenant.
	if _, err := e.srv.Auth.CreateUser(t.Context(), auth.NewUser{Tenant: "acme", Username: "id1", FhirUser: "Practitioner/p9", Roles: []string{"tester"}}); err != nil {
		t.Fatal(err)
	}
	trusted.start(t,
		storage.WebClient("hearth-web", "hearth-secret", e.srv.URL+auth.PathIdPCallback),
		storage.WebClient("fhir-app", "app-secret", redirectURI))
	untrusted.start(t)

	t.Run("bearer token of the trusted provider", func(t *testing.T) {
		tok := trusted.idToken(t, "fhir-app", "app-secret", redirectURI)
		if s, _ := e.fhirGet(tok, "/Patient/"+e.patient); s != http.StatusOK {
			t.Errorf("trusted token: %d", s)
		}
		if s, _ := e.fhirGet(tok, "/Observation/x"); s != http.StatusForbidden {
			t.Errorf("trusted token beyond its mapped scopes: %d", s)
		}
	})
	t.Run("token for another audience", func(t *testing.T) {
		tok := trusted.idToken(t, "hearth-web", "hearth-secret", e.srv.URL+auth.PathIdPCallback)
		if s, wa := e.fhirGet(tok, "/Patient/"+e.patient); s != http.StatusUnauthorized || !strings.Contains(wa, "invalid_token") {
			t.Errorf("wrong audience: %d %q", s, wa)
		}
	})
	t.Run("token of an untrusted provider", func(t *testing.T) {
		tok := untrusted.idToken(t, "fhir-app", "app-secret", redirectURI)
		if s, wa := e.fhirGet(tok, "/Patient/"+e.patient); s != http.StatusUnauthorized || !strings.Contains(wa, "invalid_token") {
			t.Errorf("untrusted provider: %d %q", s, wa)
		}
	})
	t.Run("sign in with the provider", func(t *testing.T) {
		b := newBrowser(t)
		verifier, challenge := pkce()
		page := b.follow(e.authorizeURL("user/Patient.rs openid fhirUser", challenge, nil))
		if !strings.Contains(page.body, "Sign in with Hospital IdP") {
			t.Fatalf("login page offers no IdP: %s", page.body)
		}
		id := fields(page.body).Get("id")
		back := trusted.signIn(t, b, e.srv.URL+"/auth/idp/0?id="+url.QueryEscape(id), e.srv.URL+auth.PathIdPCallback)
		page = b.follow(back.location)
		if !strings.Contains(page.body, "Allow access?") {
			t.Fatalf("after the IdP: %s", page.body)
		}
		tr := e.exchange(e.codeFrom(e.approve(b, page, nil)), verifier)
		if tr.Status != 200 || tr.FhirUser != e.srv.FHIR()+"/Practitioner/p9" || claims(t, tr.AccessToken)["iss"] != e.srv.URL {
			t.Fatalf("Hearth token after IdP login: %+v", tr)
		}
		if s, _ := e.fhirGet(tr.AccessToken, "/Patient/"+e.patient); s != http.StatusOK {
			t.Errorf("read with the Hearth token: %d", s)
		}
	})
}
