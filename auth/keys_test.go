package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/hearth-fhir/hearth/store"
)

// tokenKid issues a client_credentials token and returns it and its kid.
func tokenKid(t testing.TB, base, id, secret string) (token, kid string) {
	t.Helper()
	tr := requestToken(t, base, id, secret, url.Values{"grant_type": {"client_credentials"}})
	if tr.status != http.StatusOK {
		t.Fatalf("token: %d %q", tr.status, tr.Error)
	}
	jws, err := jose.ParseSigned(tr.AccessToken, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	return tr.AccessToken, jws.Signatures[0].Header.KeyID
}

func TestKeysPersistAcrossStarts(t *testing.T) {
	db := openStore(t)
	id, secret := register(t, db, "system/*.rs")

	first := newServer(t, db, time.Now)
	tok, kid1 := tokenKid(t, serve(t, first).URL, id, secret)
	second := newServer(t, db, time.Now)
	_, kid2 := tokenKid(t, serve(t, second).URL, id, secret)

	if kid1 == "" || kid1 != kid2 {
		t.Errorf("kid changed across starts: %q then %q", kid1, kid2)
	}
	if keys, _ := db.SigningKeys(context.Background()); len(keys) != 1 || keys[0].Algorithm != "ES256" {
		t.Errorf("store holds %d keys, want one ES256 key", len(keys))
	}
	if _, err := second.Verify(t.Context(), tok); err != nil {
		t.Errorf("second start cannot verify the first one's token: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	db := openStore(t)
	ctx := context.Background()
	id, secret := register(t, db, "system/*.rs")
	old := newServer(t, db, time.Now)
	oldToken, oldKid := tokenKid(t, serve(t, old).URL, id, secret)

	// A newer key, as a future `hearth keys rotate` would add it, and a key
	// of an algorithm this release does not use, which must be skipped.
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	later := time.Now().Add(time.Minute)
	if err := db.AddSigningKey(ctx, store.SigningKey{ID: "rotated", Algorithm: "ES256", PrivateDER: der, CreatedAt: later}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddSigningKey(ctx, store.SigningKey{ID: "future", Algorithm: "EdDSA", PrivateDER: []byte{1}, CreatedAt: later.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}

	rotated := newServer(t, db, time.Now)
	hs := serve(t, rotated)
	_, newKid := tokenKid(t, hs.URL, id, secret)
	if newKid != "rotated" {
		t.Errorf("new tokens signed with %q, want the newest key", newKid)
	}
	if _, err := rotated.Verify(t.Context(), oldToken); err != nil {
		t.Errorf("token signed with the previous key refused: %v", err)
	}

	resp, err := http.Get(hs.URL + "/oauth2/jwks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(body, &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 2 || jwks.Keys[0].KeyID != "rotated" || jwks.Keys[1].KeyID != oldKid {
		t.Errorf("JWKS = %s", body)
	}
	if strings.Contains(string(body), `"d"`) {
		t.Errorf("JWKS carries private key material: %s", body)
	}
}
