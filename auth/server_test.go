package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/auth"
)

func TestIssuerChecked(t *testing.T) {
	db := openStore(t)
	tests := []struct {
		issuer, want string // want "" means refused
	}{
		{"https://fhir.example.org", "https://fhir.example.org"},
		{"https://fhir.example.org/", "https://fhir.example.org"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://fhir.example.org", ""},
		{"http://10.0.0.5:8080", ""},
		{"https://fhir.example.org/auth", ""},
		{"https://fhir.example.org?x=1", ""},
		{"fhir.example.org", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			srv, err := auth.NewServer(context.Background(), auth.Config{Issuer: tt.issuer}, db, nil)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("issuer %q accepted", tt.issuer)
				}
				return
			}
			if err != nil {
				t.Fatalf("issuer %q: %v", tt.issuer, err)
			}
			if srv.Issuer() != tt.want || srv.Audience() != tt.want+"/fhir" {
				t.Errorf("Issuer %q Audience %q", srv.Issuer(), srv.Audience())
			}
		})
	}
}

func TestDiscovery(t *testing.T) {
	hs := serve(t, newServer(t, openStore(t), time.Now))
	resp, err := http.Get(hs.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"issuer":                 testIssuer,
		"token_endpoint":         testIssuer + "/oauth2/token",
		"authorization_endpoint": testIssuer + "/oauth2/authorize",
		"introspection_endpoint": testIssuer + "/oauth2/introspect",
		"revocation_endpoint":    testIssuer + "/oauth2/revoke",
		"userinfo_endpoint":      testIssuer + "/oauth2/userinfo",
		"jwks_uri":               testIssuer + "/oauth2/jwks",
		"end_session_endpoint":   testIssuer + "/oauth2/logout",
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	if !strings.Contains(jsonString(doc["grant_types_supported"]), "client_credentials") ||
		!strings.Contains(jsonString(doc["token_endpoint_auth_methods_supported"]), `"client_secret_basic"`) ||
		jsonString(doc["id_token_signing_alg_values_supported"]) != `["ES256"]` {
		t.Errorf("discovery = %v", doc)
	}
}

// A backend client's view of the other endpoints: introspection of its own
// token, grants it is not registered for, and op's hidden probes. Nothing
// answers with a panic or a 500.
func TestBackendClientEndpoints(t *testing.T) {
	db := openStore(t)
	hs := serve(t, newServer(t, db, time.Now))
	id, secret := register(t, db, "system/*.rs")
	token, _ := tokenKid(t, hs.URL, id, secret)

	tests := []struct {
		name, method, path string
		form               url.Values
		basic              bool
		status             int
		body               string // a substring the body must contain
	}{
		{"introspection of own token", "POST", "/oauth2/introspect", url.Values{"token": {token}}, true, 200, `"active":true`},
		{"introspection of garbage", "POST", "/oauth2/introspect", url.Values{"token": {"x.y.z"}}, true, 200, `"active":false`},
		{"introspection unauthenticated", "POST", "/oauth2/introspect", url.Values{"token": {token}}, false, 401, "invalid_client"},
		{"authorize", "GET", "/oauth2/authorize?response_type=code&scope=openid&client_id=" + id + "&redirect_uri=https://app.example/cb", nil, false, 400, ""},
		{"userinfo", "GET", "/oauth2/userinfo", nil, false, 401, ""},
		{"authorization_code grant", "POST", "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {"https://app.example/cb"}}, true, 400, ""},
		{"refresh grant not registered", "POST", "/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, true, 400, "unauthorized_client"},
		{"device authorization", "POST", "/oauth2/device_authorization", url.Values{"scope": {"openid"}}, true, 400, ""},
		{"op health probe hidden", "GET", "/healthz", nil, false, 404, ""},
		{"op readiness probe hidden", "GET", "/ready", nil, false, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form.Encode())
			}
			req, _ := http.NewRequest(tt.method, hs.URL+tt.path, body)
			if tt.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.basic {
				req.SetBasicAuth(id, secret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(got), tt.body) {
				t.Errorf("%s %s = %d %s, want %d containing %q", tt.method, tt.path, resp.StatusCode, got, tt.status, tt.body)
			}
		})
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// GET /fhir/.well-known/smart-configuration lists what SMART App Launch
// 2.x asks for, with CORS for browser apps.
func TestSMARTConfiguration(t *testing.T) {
	hs := serve(t, newServer(t, openStore(t), time.Now))
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/fhir/.well-known/smart-configuration", nil)
	req.Header.Set("Origin", "https://app.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("status %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"issuer": testIssuer, "jwks_uri": testIssuer + "/oauth2/jwks", "authorization_endpoint": testIssuer + "/oauth2/authorize",
		"token_endpoint": testIssuer + "/oauth2/token", "introspection_endpoint": testIssuer + "/oauth2/introspect",
		"revocation_endpoint": testIssuer + "/oauth2/revoke",
	} {
		if doc[k] != v {
			t.Errorf("%s = %v, want %s", k, doc[k], v)
		}
	}
	for k, want := range map[string][]string{
		"code_challenge_methods_supported":      {"S256"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "private_key_jwt"},
		"grant_types_supported":                 {"authorization_code", "refresh_token", "client_credentials"},
		"response_types_supported":              {"code"},
		"scopes_supported":                      {"openid", "fhirUser", "launch", "launch/patient", "offline_access"},
		"capabilities": {"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
			"client-confidential-asymmetric", "context-ehr-patient", "context-standalone-patient", "permission-v1",
			"permission-v2", "permission-patient", "permission-user", "permission-offline", "sso-openid-connect", "authorize-post"},
	} {
		got := jsonString(doc[k])
		for _, w := range want {
			if !strings.Contains(got, `"`+w+`"`) {
				t.Errorf("%s = %s lacks %q", k, got, w)
			}
		}
	}
	if strings.Contains(jsonString(doc["code_challenge_methods_supported"]), "plain") {
		t.Error("plain PKCE advertised")
	}
}
