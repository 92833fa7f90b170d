package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Every rejected token is 401 with WWW-Authenticate error="invalid_token"
// and the same OperationOutcome, whatever check failed.
func TestRejectedTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	keys, err := e.srv.Store.SigningKeys(ctx)
	if err != nil || len(keys) == 0 {
		t.Fatal(err)
	}
	parsed, _ := x509.ParsePKCS8PrivateKey(keys[0].PrivateDER)
	key, kid := parsed.(*ecdsa.PrivateKey), keys[0].ID
	now := time.Now()
	base := func() map[string]any {
		return map[string]any{"iss": e.srv.URL, "sub": "u1", "aud": e.srv.FHIR(), "tenant": e.tenant,
			"scope": "user/*.cruds", "roles": []string{"tester"}, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "j"}
	}
	with := func(k string, v any) map[string]any { m := base(); m[k] = v; return m }
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	good := forge(t, jose.ES256, key, kid, base())
	if s, _ := e.fhirGet(good, "/Patient/"+e.patient); s != http.StatusOK {
		t.Fatalf("a well-formed token is refused: %d", s)
	}
	launched := e.launch("launch/patient patient/*.rs")
	revoke := url.Values{"token": {launched.AccessToken}, "client_id": {e.clientID}}
	if resp, err := http.PostForm(e.srv.URL+"/oauth2/revoke", revoke); err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}

	for name, tok := range map[string]string{
		"expired":        forge(t, jose.ES256, key, kid, with("exp", now.Add(-time.Hour).Unix())),
		"wrong issuer":   forge(t, jose.ES256, key, kid, with("iss", "https://evil.example")),
		"wrong audience": forge(t, jose.ES256, key, kid, with("aud", "https://other.example/fhir")),
		"no tenant":      forge(t, jose.ES256, key, kid, with("tenant", "")),
		"unknown tenant": forge(t, jose.ES256, key, kid, with("tenant", "no-such-clinic")),
		"alg none":       none(base(), kid),
		"bad signature":  forge(t, jose.ES256, otherKey, kid, base()),
		"tampered":       tamper(good),
		"revoked":        launched.AccessToken,
		"garbage":        "not.a.token",
	} {
		t.Run(name, func(t *testing.T) {
			status, body := e.fhirDo(tok, "GET", "/Patient/"+e.patient, "")
			_, wa := e.fhirGet(tok, "/Patient/"+e.patient)
			if status != http.StatusUnauthorized || !strings.Contains(wa, `error="invalid_token"`) {
				t.Errorf("status %d, WWW-Authenticate %q", status, wa)
			}
			if name != "expired" && !strings.Contains(body, "invalid token") {
				t.Errorf("body says more than invalid token: %s", body)
			}
		})
	}
	// Another tenant's token does not reach this tenant's data.
	otherTok := e.srv.Token("other-clinic", "system/*.rs")
	if s, _ := e.fhirGet(otherTok, "/Patient/"+e.patient); s != http.StatusNotFound {
		t.Errorf("other tenant's token: %d, want 404", s)
	}
}

func forge(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func none(claims map[string]any, kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// tamper changes the payload of a signed token, keeping the signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	raw = []byte(strings.Replace(string(raw), "user/*.cruds", "user/*.rs", 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[2]
}
