package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

func TestRegisterClient(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	id, secret, err := auth.RegisterClient(ctx, db, "acme", "EHR bridge", "system/*.read  openid")
	if err != nil {
		t.Fatal(err)
	}
	if len(id) < 16 || len(secret) != 43 { // 32 bytes, base64url without padding
		t.Errorf("id %q, secret length %d", id, len(secret))
	}
	c, err := db.LookupClient(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(secret))
	if !bytes.Equal(c.SecretHash, sum[:]) || bytes.Contains(c.SecretHash, []byte(secret)) {
		t.Errorf("stored SecretHash is not SHA-256 of the secret")
	}
	if c.Tenant != "acme" || c.Name != "EHR bridge" || c.Scopes != "system/*.read openid" {
		t.Errorf("stored client = %+v", c)
	}
	if id2, secret2 := register(t, db, "system/*.rs"); id2 == id || secret2 == secret {
		t.Errorf("two registrations share an id or secret")
	}

	tests := []struct {
		name, tenant, scopes string
		kind                 fhir.Kind
	}{
		{"malformed scope", "acme", "system/Patient.xyz", fhir.KindInvalid},
		{"no scope", "acme", "  ", fhir.KindInvalid},
		{"unknown tenant", "nowhere", "system/*.rs", fhir.KindNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := auth.RegisterClient(ctx, db, tt.tenant, "x", tt.scopes)
			if !fhir.IsKind(err, tt.kind) {
				t.Errorf("err = %v, want %s", err, tt.kind)
			}
		})
	}
}

func TestDisabledClientRefused(t *testing.T) {
	db := openStore(t)
	hs := serve(t, newServer(t, db, time.Now))
	secret := "s3cret-s3cret-s3cret-s3cret-s3cret-s3cret-x"
	sum := sha256.Sum256([]byte(secret))
	err := db.CreateClient(context.Background(), store.Client{Tenant: "acme", ID: "off", Name: "off",
		SecretHash: sum[:], Scopes: "system/*.rs", CreatedAt: time.Now(), Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	tr := requestToken(t, hs.URL, "off", secret, url.Values{"grant_type": {"client_credentials"}})
	if tr.status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Errorf("disabled client got %d %q", tr.status, tr.Error)
	}
}
