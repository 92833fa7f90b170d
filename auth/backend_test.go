package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
)

// SMART Backend Services: client_credentials with a private_key_jwt
// assertion signed RS384 or ES384 by a key registered inline or at a JWKS
// URL; each jti works once.
func TestBackendServicesPrivateKeyJWT(t *testing.T) {
	db := openStore(t)
	hs := serve(t, newServer(t, db, time.Now))
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ecJWKS := jwks(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "ec1", Algorithm: "ES384", Use: "sig"})
	keysServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(ecJWKS)) }))
	t.Cleanup(keysServer.Close)

	ctx := context.Background()
	inline, _, err := auth.RegisterApp(ctx, db, auth.App{Tenant: "acme", Name: "bulk", Scopes: "system/*.rs", AuthMethod: store.AuthPrivateKeyJWT,
		JWKS: jwks(t, jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "rsa1", Algorithm: "RS384", Use: "sig"})})
	if err != nil {
		t.Fatal(err)
	}
	byURL, _, err := auth.RegisterApp(ctx, db, auth.App{Tenant: "acme", Name: "ehr", Scopes: "system/Communication.cruds", AuthMethod: store.AuthPrivateKeyJWT,
		JWKSURL: keysServer.URL + "/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	secretID, secret := register(t, db, "system/*.rs")
	tokenURL := testIssuer + "/oauth2/token"
	assertion := func(alg jose.SignatureAlgorithm, key any, kid, client, aud, jti string, exp time.Duration) string {
		return sign(t, alg, key, kid, map[string]any{"iss": client, "sub": client, "aud": aud, "jti": jti,
			"exp": time.Now().Add(exp).Unix(), "iat": time.Now().Unix()})
	}
	post := func(a string) tokenResponse {
		return requestToken(t, hs.URL, "", "", url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.rs"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
	}

	good := assertion(jose.RS384, rsaKey, "rsa1", inline, tokenURL, "j1", 4*time.Minute)
	if tr := post(good); tr.status != 200 || tr.Scope != "system/*.rs" || tr.AccessToken == "" {
		t.Fatalf("RS384 inline keys: %+v", tr)
	}
	if tr := post(good); tr.status != 401 || tr.Error != "invalid_client" {
		t.Errorf("replayed jti: %+v", tr)
	}
	ec := assertion(jose.ES384, ecKey, "ec1", byURL, tokenURL, "j2", 4*time.Minute)
	if tr := requestToken(t, hs.URL, "", "", url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Communication.rs"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {ec}}); tr.status != 200 || tr.Scope != "system/Communication.rs" {
		t.Fatalf("ES384 keys by URL: %+v", tr)
	}
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, a := range map[string]string{
		"wrong aud":           assertion(jose.RS384, rsaKey, "rsa1", inline, testIssuer, "j3", 4*time.Minute),
		"exp too far":         assertion(jose.RS384, rsaKey, "rsa1", inline, tokenURL, "j4", 30*time.Minute),
		"expired":             assertion(jose.RS384, rsaKey, "rsa1", inline, tokenURL, "j5", -5*time.Minute),
		"wrong key":           assertion(jose.RS384, otherRSA, "rsa1", inline, tokenURL, "j6", 4*time.Minute),
		"unknown kid":         assertion(jose.RS384, rsaKey, "nope", inline, tokenURL, "j7", 4*time.Minute),
		"HS256":               assertion(jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "rsa1", inline, tokenURL, "j8", 4*time.Minute),
		"alg none":            unsigned(map[string]any{"iss": inline, "sub": inline, "aud": tokenURL, "jti": "j9", "exp": time.Now().Add(time.Minute).Unix()}, "rsa1"),
		"secret client":       assertion(jose.RS384, rsaKey, "rsa1", secretID, tokenURL, "j10", 4*time.Minute),
		"key of other client": assertion(jose.ES384, ecKey, "ec1", inline, tokenURL, "j11", 4*time.Minute),
	} {
		t.Run(name, func(t *testing.T) {
			if tr := post(a); tr.status != 401 || tr.Error != "invalid_client" {
				t.Errorf("%s: %+v", name, tr)
			}
		})
	}
	// The secret client still works with client_secret_basic.
	if tr := requestToken(t, hs.URL, secretID, secret, url.Values{"grant_type": {"client_credentials"}}); tr.status != 200 {
		t.Errorf("client_secret_basic: %+v", tr)
	}
}

func jwks(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
