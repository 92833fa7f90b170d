package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/fhir"
)

func TestVerify(t *testing.T) {
	db := openStore(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := newServer(t, db, func() time.Time { return now })
	kid, key := storedKey(t, db)

	good := map[string]any{
		"iss": testIssuer, "sub": "client-1", "aud": []string{testIssuer + "/fhir"},
		"iat": now.Add(-time.Minute).Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(time.Hour).Unix(),
		"jti": "tok-1", "client_id": "client-1", "tenant": "acme", "scope": "system/*.rs",
		"fhirUser": "Practitioner/p1",
	}
	with := func(k string, v any) map[string]any {
		c := maps.Clone(good)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	tampered := func() string {
		parts := strings.Split(sign(t, jose.ES256, key, kid, good), ".")
		evil := strings.Split(sign(t, jose.ES256, key, kid, with("tenant", "other")), ".")
		return parts[0] + "." + evil[1] + "." + parts[2]
	}()

	tests := []struct {
		name  string
		token string
		msg   string // "" means the token is accepted
	}{
		{"good", sign(t, jose.ES256, key, kid, good), ""},
		{"single audience string", sign(t, jose.ES256, key, kid, with("aud", testIssuer+"/fhir")), ""},
		{"within leeway after exp", sign(t, jose.ES256, key, kid, with("exp", now.Add(-10*time.Second).Unix())), ""},
		{"expired", sign(t, jose.ES256, key, kid, with("exp", now.Add(-time.Hour).Unix())), "token expired"},
		{"not yet valid", sign(t, jose.ES256, key, kid, with("nbf", now.Add(time.Hour).Unix())), "invalid token"},
		{"issued in the future", sign(t, jose.ES256, key, kid, with("iat", now.Add(time.Hour).Unix())), "invalid token"},
		{"no exp", sign(t, jose.ES256, key, kid, with("exp", nil)), "invalid token"},
		{"no iat", sign(t, jose.ES256, key, kid, with("iat", nil)), "invalid token"},
		{"wrong issuer", sign(t, jose.ES256, key, kid, with("iss", "https://evil.example")), "invalid token"},
		{"wrong audience", sign(t, jose.ES256, key, kid, with("aud", []string{"https://other.example/fhir"})), "invalid token"},
		{"no audience", sign(t, jose.ES256, key, kid, with("aud", nil)), "invalid token"},
		{"no tenant", sign(t, jose.ES256, key, kid, with("tenant", nil)), "invalid token"},
		{"empty tenant", sign(t, jose.ES256, key, kid, with("tenant", "")), "invalid token"},
		{"no sub", sign(t, jose.ES256, key, kid, with("sub", nil)), "invalid token"},
		{"tenant not a string", sign(t, jose.ES256, key, kid, with("tenant", 7)), "invalid token"},
		{"alg none", unsigned(good, kid), "invalid token"},
		{"HS256 keyed with the public key", sign(t, jose.HS256, pubDER, kid, good), "invalid token"},
		{"RS256", sign(t, jose.RS256, rsaKey, kid, good), "invalid token"},
		{"ES384-shaped alg claim", sign(t, jose.ES384, mustP384(t), kid, good), "invalid token"},
		{"bad signature", tampered, "invalid token"},
		{"unknown kid", sign(t, jose.ES256, otherKey, "not-ours", good), "invalid token"},
		{"our kid, another key", sign(t, jose.ES256, otherKey, kid, good), "invalid token"},
		{"no kid", sign(t, jose.ES256, key, "", good), "invalid token"},
		{"empty", "", "invalid token"},
		{"garbage", "not.a.jwt", "invalid token"},
		{"oversized", strings.Repeat("a", 9000), "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := srv.Verify(t.Context(), tt.token)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if claims.Tenant != "acme" || claims.Subject != "client-1" || claims.ClientID != "client-1" ||
					claims.Scope != "system/*.rs" || claims.FhirUser != "Practitioner/p1" || claims.ID != "tok-1" ||
					claims.ExpiresAt.Unix() != int64(payload(t, tt.token)["exp"].(float64)) ||
					!claims.IssuedAt.Equal(time.Unix(good["iat"].(int64), 0)) {
					t.Errorf("claims = %+v", claims)
				}
				return
			}
			var fe *fhir.Error
			if !errors.As(err, &fe) || fe.Kind != fhir.KindUnauthorized || fe.Message != tt.msg {
				t.Fatalf("Verify error = %#v, want KindUnauthorized %q", err, tt.msg)
			}
			if !reflect.DeepEqual(claims, auth.Claims{}) {
				t.Errorf("claims returned with an error: %+v", claims)
			}
		})
	}
}

func mustP384(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestVerifyCacheRechecksExpiry: a token verified once is served from the
// cache, but never past its expiry.
func TestVerifyCacheRechecksExpiry(t *testing.T) {
	db := openStore(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := newServer(t, db, func() time.Time { return now })
	kid, key := storedKey(t, db)
	tok := sign(t, jose.ES256, key, kid, map[string]any{
		"iss": testIssuer, "sub": "c", "aud": testIssuer + "/fhir", "tenant": "acme",
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
	for i := 0; i < 2; i++ {
		if c, err := srv.Verify(t.Context(), tok); err != nil || c.Tenant != "acme" {
			t.Fatalf("verify %d: %v %+v", i, err, c)
		}
	}
	now = now.Add(2 * time.Minute)
	if _, err := srv.Verify(t.Context(), tok); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token from the cache: %v", err)
	}
}

// A deleted tenant's tokens stop working once the server checks the tenant
// again, even when the delete ran in another process.
func TestVerifyRechecksDeletedTenant(t *testing.T) {
	db := openStore(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := newServer(t, db, func() time.Time { return now })
	kid, key := storedKey(t, db)
	tok := sign(t, jose.ES256, key, kid, map[string]any{
		"iss": testIssuer, "sub": "c", "aud": testIssuer + "/fhir", "tenant": "acme",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if _, err := srv.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteTenant(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if _, err := srv.Verify(t.Context(), tok); err == nil {
		t.Fatal("a deleted tenant's token still verifies a minute later")
	}
}
