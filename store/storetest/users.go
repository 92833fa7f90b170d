package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// runUsers runs the store.Users part of the contract when s has it.
func runUsers(t *testing.T, s store.Store) {
	u, ok := s.(store.Users)
	if !ok {
		return
	}
	t.Run("Users", func(t *testing.T) { testUsers(t, u) })
	t.Run("LoginFailures", func(t *testing.T) { testLoginFailures(t, u) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, u) })
	t.Run("RefreshTokens", func(t *testing.T) { testRefreshTokens(t, u) })
	t.Run("AuthItems", func(t *testing.T) { testAuthItems(t, u) })
	t.Run("ClientSettings", func(t *testing.T) { testClientSettings(t, s) })
}

func testUsers(t *testing.T, s store.Users) {
	t.Parallel()
	ctx := context.Background()
	tenant, other := newTenant(t), newTenant(t)
	want := store.User{Tenant: tenant, ID: "u-" + randomHex(t, 4), Username: "alice", PasswordHash: "$argon2id$x",
		FhirUser: "Practitioner/1", Roles: []string{"practitioner", "admin"}, Organization: "Organization/9", Verified: true, CreatedAt: at(0)}
	if err := s.CreateUser(ctx, want); err != nil {
		t.Fatal(err)
	}
	checkKind(t, "duplicate username", s.CreateUser(ctx, store.User{Tenant: tenant, ID: "u2", Username: "alice", CreatedAt: at(0)}), fhir.KindConflict)
	if err := s.CreateUser(ctx, store.User{Tenant: other, ID: "u2", Username: "alice", CreatedAt: at(0)}); err != nil {
		t.Errorf("same username in another tenant: %v", err)
	}
	got, err := s.UserByName(ctx, tenant, "alice")
	if err != nil || got.ID != want.ID || got.FhirUser != want.FhirUser || !slices.Equal(got.Roles, want.Roles) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.LockedUntil.IsZero() || got.Organization != want.Organization || !got.Verified {
		t.Errorf("UserByName = %+v, %v", got, err)
	}
	got.PasswordHash, got.TOTPSecret, got.TOTPEnabled, got.RevokedBefore = "$argon2id$y", "JBSWY3DP", true, at(5)
	got.Verified, got.Organization = false, "Organization/10"
	if err := s.UpdateUser(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetUser(ctx, tenant, want.ID)
	if err != nil || again.PasswordHash != "$argon2id$y" || !again.TOTPEnabled || again.TOTPSecret != "JBSWY3DP" || !again.RevokedBefore.Equal(at(5)) ||
		again.Verified || again.Organization != "Organization/10" {
		t.Errorf("after UpdateUser = %+v, %v", again, err)
	}
	_, err = s.GetUser(ctx, other, want.ID)
	checkKind(t, "GetUser other tenant", err, fhir.KindNotFound)
	checkKind(t, "UpdateUser unknown", s.UpdateUser(ctx, store.User{Tenant: tenant, ID: "nobody", Username: "x"}), fhir.KindNotFound)
}

func testLoginFailures(t *testing.T, s store.Users) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	if err := s.CreateUser(ctx, store.User{Tenant: tenant, ID: "u", Username: "bob", CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		u, err := s.LoginFailed(ctx, tenant, "u", 3, at(100))
		if err != nil || u.FailedLogins != i {
			t.Fatalf("LoginFailed %d = %+v, %v", i, u, err)
		}
		if locked := !u.LockedUntil.IsZero(); locked != (i == 3) {
			t.Errorf("after %d failures locked until %v", i, u.LockedUntil)
		}
	}
	if err := s.LoginSucceeded(ctx, tenant, "u"); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, tenant, "u"); u.FailedLogins != 0 || !u.LockedUntil.IsZero() {
		t.Errorf("after success = %+v", u)
	}
	_, err := s.LoginFailed(ctx, tenant, "nobody", 3, at(1))
	checkKind(t, "LoginFailed unknown", err, fhir.KindNotFound)
}

func testSessions(t *testing.T, s store.Users) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	id1, id2 := "s-"+randomHex(t, 8), "s-"+randomHex(t, 8)
	for _, id := range []string{id1, id2} {
		if err := s.CreateSession(ctx, store.Session{Tenant: tenant, ID: id, UserID: "u", CreatedAt: at(0), LastSeen: at(0)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UpdateSession(ctx, store.Session{ID: id1, LastSeen: at(9), MFADone: true}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSession(ctx, id1)
	if err != nil || got.Tenant != tenant || got.UserID != "u" || !got.MFADone || !got.LastSeen.Equal(at(9)) || !got.CreatedAt.Equal(at(0)) {
		t.Errorf("GetSession = %+v, %v", got, err)
	}
	if err := s.DeleteSession(ctx, id1); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSession(ctx, id1)
	checkKind(t, "deleted session", err, fhir.KindNotFound)
	if err := s.DeleteUserSessions(ctx, tenant, "u"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSession(ctx, id2)
	checkKind(t, "session of signed-out user", err, fhir.KindNotFound)
}

func testRefreshTokens(t *testing.T, s store.Users) {
	t.Parallel()
	ctx := context.Background()
	tenant := newTenant(t)
	tok := func(hash, chain, user string) store.RefreshToken {
		return store.RefreshToken{Tenant: tenant, Hash: hash, ChainID: chain, UserID: user, ClientID: "c",
			Data: []byte(`{"scope":"openid"}`), CreatedAt: at(0), ExpiresAt: at(3600)}
	}
	a, b, c := "h-"+randomHex(t, 8), "h-"+randomHex(t, 8), "h-"+randomHex(t, 8)
	for _, rt := range []store.RefreshToken{tok(a, "chain1", "u1"), tok(b, "chain1", "u1"), tok(c, "chain2", "u2")} {
		if err := s.CreateRefreshToken(ctx, rt); err != nil {
			t.Fatal(err)
		}
	}
	got, fresh, err := s.UseRefreshToken(ctx, a, at(10))
	if err != nil || !fresh || string(got.Data) != `{"scope":"openid"}` || !got.UsedAt.Equal(at(10)) {
		t.Fatalf("first use = %+v, %v, %v", got, fresh, err)
	}
	if got, fresh, err = s.UseRefreshToken(ctx, a, at(11)); err != nil || fresh || !got.UsedAt.Equal(at(10)) || got.ChainID != "chain1" {
		t.Errorf("second use = %+v, %v, %v", got, fresh, err)
	}
	if err := s.RevokeRefreshChain(ctx, tenant, "chain1"); err != nil {
		t.Fatal(err)
	}
	if got, fresh, err = s.UseRefreshToken(ctx, b, at(12)); err != nil || fresh || !got.Revoked {
		t.Errorf("use of revoked = %+v, %v, %v", got, fresh, err)
	}
	if err := s.RevokeUserRefreshTokens(ctx, tenant, "u2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRefreshToken(ctx, c); err != nil || !got.Revoked {
		t.Errorf("token of signed-out user = %+v, %v", got, err)
	}
	_, _, err = s.UseRefreshToken(ctx, "unknown", at(1))
	checkKind(t, "unknown refresh token", err, fhir.KindNotFound)
}

func testAuthItems(t *testing.T, s store.Users) {
	t.Parallel()
	ctx := context.Background()
	kind := "k-" + randomHex(t, 4)
	it := store.AuthItem{Tenant: "t", Kind: kind, ID: "jti-1", Data: []byte("one"), ExpiresAt: at(60)}
	if err := s.PutAuthItem(ctx, it, at(0)); err != nil {
		t.Fatal(err)
	}
	checkKind(t, "replayed item", s.PutAuthItem(ctx, it, at(1)), fhir.KindConflict)
	got, err := s.GetAuthItem(ctx, kind, "jti-1", at(2))
	if err != nil || string(got.Data) != "one" || got.Tenant != "t" || !got.ExpiresAt.Equal(at(60)) {
		t.Errorf("GetAuthItem = %+v, %v", got, err)
	}
	_, err = s.GetAuthItem(ctx, kind, "jti-1", at(60))
	checkKind(t, "expired item", err, fhir.KindNotFound)
	// An expired item's id may be used again.
	it2 := it
	it2.Data, it2.ExpiresAt = []byte("two"), at(200)
	if err := s.PutAuthItem(ctx, it2, at(61)); err != nil {
		t.Fatalf("reuse of an expired id: %v", err)
	}
	if err := s.PutAuthItem(ctx, store.AuthItem{Kind: kind, ID: "other", Data: []byte("x"), ExpiresAt: at(100)}, at(0)); err != nil {
		t.Fatal(err)
	}
	list, err := s.AuthItems(ctx, kind, at(150))
	if err != nil || len(list) != 1 || list[0].ID != "jti-1" || string(list[0].Data) != "two" {
		t.Errorf("AuthItems = %+v, %v", list, err)
	}
	if err := s.DeleteAuthItem(ctx, kind, "jti-1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetAuthItem(ctx, kind, "jti-1", at(0))
	checkKind(t, "deleted item", err, fhir.KindNotFound)
}

// testClientSettings checks the columns public and key-authenticated clients need.
func testClientSettings(t *testing.T, s store.Store) {
	t.Parallel()
	ctx := context.Background()
	want := store.Client{Tenant: newTenant(t), ID: "app-" + randomHex(t, 6), Name: "app", Scopes: "launch/patient",
		CreatedAt: at(0), AuthMethod: store.AuthPrivateKeyJWT, RedirectURIs: []string{"https://a/cb", "http://127.0.0.1:9/cb"},
		JWKS: `{"keys":[]}`, JWKSURL: "https://a/jwks"}
	if err := s.CreateClient(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.LookupClient(ctx, want.ID)
	if err != nil || got.AuthMethod != want.AuthMethod || !slices.Equal(got.RedirectURIs, want.RedirectURIs) ||
		got.JWKS != want.JWKS || got.JWKSURL != want.JWKSURL {
		t.Errorf("LookupClient = %+v, %v", got, err)
	}
	plain := store.Client{Tenant: want.Tenant, ID: "svc-" + randomHex(t, 6), CreatedAt: at(0)}
	if err := s.CreateClient(ctx, plain); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LookupClient(ctx, plain.ID); err != nil || got.AuthMethod != store.AuthSecretBasic {
		t.Errorf("client without a method = %+v, %v", got, err)
	}
}
