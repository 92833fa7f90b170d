package auth_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestClientCredentialsToken(t *testing.T) {
	db := openStore(t)
	srv := newServer(t, db, time.Now)
	hs := serve(t, srv)
	id, secret := register(t, db, "system/*.rs system/Communication.cu")

	tr := requestToken(t, hs.URL, id, secret, url.Values{"grant_type": {"client_credentials"}})
	if tr.status != http.StatusOK {
		t.Fatalf("status %d, error %q", tr.status, tr.Error)
	}
	if tr.TokenType != "Bearer" || tr.Scope != "system/*.rs system/Communication.cu" {
		t.Errorf("token_type %q, scope %q", tr.TokenType, tr.Scope)
	}
	if tr.ExpiresIn < 3590 || tr.ExpiresIn > 3600 {
		t.Errorf("expires_in %d, want about 3600", tr.ExpiresIn)
	}

	// Check the signature with the published JWKS, as a third party would.
	resp, err := http.Get(hs.URL + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(tr.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("access token is not an ES256 JWT: %v", err)
	}
	kid := tok.Headers[0].KeyID
	keys := jwks.Key(kid)
	if len(keys) != 1 || !keys[0].IsPublic() {
		t.Fatalf("kid %q: %d public keys in the JWKS %+v", kid, len(keys), jwks)
	}
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("signature: %v", err)
	}
	want := map[string]any{
		"iss": testIssuer, "sub": id, "client_id": id, "tenant": "acme",
		"scope": "system/*.rs system/Communication.cu",
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != testIssuer+"/fhir" {
		t.Errorf("aud = %v", claims["aud"])
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if exp-iat < 3590 || exp-iat > 3600 || claims["jti"] == "" || claims["jti"] == nil {
		t.Errorf("iat %v exp %v jti %v", iat, exp, claims["jti"])
	}

	got, err := srv.Verify(t.Context(), tr.AccessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Tenant != "acme" || got.Subject != id || got.ClientID != id || got.Scope != tr.Scope ||
		got.ID != claims["jti"] || got.ExpiresAt.Unix() != int64(exp) || got.IssuedAt.Unix() != int64(iat) {
		t.Errorf("Verify claims = %+v", got)
	}
}

func TestTokenEndpointRefuses(t *testing.T) {
	db := openStore(t)
	hs := serve(t, newServer(t, db, time.Now))
	id, secret := register(t, db, "system/*.rs patient/*.read openid")
	cc := url.Values{"grant_type": {"client_credentials"}}

	tests := []struct {
		name       string
		id, secret string
		form       url.Values
		status     int
		error      string
	}{
		{"wrong secret", id, secret + "x", cc, 401, "invalid_client"},
		{"unknown client", "nobody", secret, cc, 401, "invalid_client"},
		{"no client authentication", "", "", cc, 401, "invalid_client"},
		{"unsupported grant", id, secret, url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, 400, "unsupported_grant_type"},
		{"missing grant", id, secret, url.Values{}, 400, "invalid_request"},
		{"scope beyond registration", id, secret, withScope(cc, "system/*.write"), 400, "invalid_scope"},
		{"only non-system scopes", id, secret, withScope(cc, "patient/*.read openid"), 400, "invalid_scope"},
		{"malformed scope", id, secret, withScope(cc, "system/Patient.sr"), 400, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := requestToken(t, hs.URL, tt.id, tt.secret, tt.form)
			if tr.status != tt.status || tr.Error != tt.error || tr.AccessToken != "" {
				t.Errorf("got %d %q (token %v), want %d %q", tr.status, tr.Error, tr.AccessToken != "", tt.status, tt.error)
			}
		})
	}
}

func TestTokenScopeNarrowing(t *testing.T) {
	db := openStore(t)
	hs := serve(t, newServer(t, db, time.Now))
	id, secret := register(t, db, "system/*.rs system/Communication.cruds patient/*.read openid")

	tests := []struct{ requested, granted string }{
		{"", "system/*.rs system/Communication.cruds"},
		{"system/Patient.read", "system/Patient.read"},
		{"system/Patient.cruds", "system/Patient.rs"},
		{"system/Communication.* system/Observation.write", "system/Communication.*"},
		{"system/Observation.rs patient/*.read openid", "system/Observation.rs"},
	}
	for _, tt := range tests {
		t.Run(tt.requested, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			if tt.requested != "" {
				form.Set("scope", tt.requested)
			}
			tr := requestToken(t, hs.URL, id, secret, form)
			if tr.status != http.StatusOK {
				t.Fatalf("status %d %q", tr.status, tr.Error)
			}
			if tr.Scope != tt.granted {
				t.Errorf("scope = %q, want %q", tr.Scope, tt.granted)
			}
			if got := payload(t, tr.AccessToken)["scope"]; got != tt.granted {
				t.Errorf("token scope claim = %v, want %q", got, tt.granted)
			}
		})
	}
}

func withScope(form url.Values, scope string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set("scope", scope)
	return out
}
