package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/hearth-fhir/hearth/store"
)

// callerClient authenticates the client calling introspection or
// revocation: HTTP Basic with its secret, a private_key_jwt assertion, or,
// for a public client (which has no secret), just its client_id.
func (s *Server) callerClient(r *http.Request, publicOK bool) (store.Client, bool) {
	ctx := r.Context()
	if id, secret, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		c, err := authenticateClient(ctx, s.accounts, id, secret)
		return c, err == nil
	}
	if r.PostForm.Get("client_assertion") != "" {
		c, err := s.verifyClientAssertion(ctx, r.PostForm)
		return c, err == nil
	}
	if id := r.PostForm.Get("client_id"); id != "" && publicOK {
		c, err := s.accounts.LookupClient(ctx, id)
		return c, err == nil && !c.Disabled && c.AuthMethod == store.AuthNone
	}
	return store.Client{}, false
}

// introspect answers RFC 7662 token introspection for Hearth's access and
// refresh tokens. The caller is a client authenticating as at the token
// endpoint, or a bearer of a valid access token. Tokens of another tenant,
// and refresh tokens of another client, are reported inactive.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "POST a form")
		return
	}
	ctx := r.Context()
	var callerTenant, callerClient string
	if c, ok := s.callerClient(r, false); ok {
		callerTenant, callerClient = c.Tenant, c.ID
	} else if cl, err := s.Verify(ctx, bearerToken(r)); err == nil {
		callerTenant = cl.Tenant
	} else {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	token := r.PostForm.Get("token")
	resp := map[string]any{"active": false}
	if cl, err := s.Verify(ctx, token); err == nil && cl.Tenant == callerTenant {
		resp = map[string]any{
			"active": true, "token_type": "Bearer", "scope": cl.Scope, "client_id": cl.ClientID, "sub": cl.Subject,
			"iss": s.issuer, "aud": s.audience, "exp": cl.ExpiresAt.Unix(), "iat": cl.IssuedAt.Unix(), "tenant": cl.Tenant,
		}
		addContext(resp, cl.Patient, cl.Encounter, cl.FhirUser, s.audience)
	} else if g, t, ok := s.liveRefreshToken(ctx, token); ok && t.ClientID == callerClient {
		resp = map[string]any{
			"active": true, "token_type": "refresh_token", "scope": g.Scope, "client_id": g.ClientID, "sub": g.UserID,
			"iss": s.issuer, "exp": t.ExpiresAt.Unix(), "iat": t.CreatedAt.Unix(), "tenant": g.Tenant,
		}
		addContext(resp, g.Patient, g.Encounter, g.FhirUser, s.audience)
	}
	writeJSON(w, resp)
}

func addContext(m map[string]any, patient, encounter, fhirUser, base string) {
	if patient != "" {
		m["patient"] = patient
	}
	if encounter != "" {
		m["encounter"] = encounter
	}
	if fhirUser != "" {
		m["fhirUser"] = base + "/" + fhirUser
	}
}

// liveRefreshToken returns an unused, unrevoked, unexpired refresh token.
func (s *Server) liveRefreshToken(ctx context.Context, token string) (grant, store.RefreshToken, bool) {
	if !strings.HasPrefix(token, "rt_") {
		return grant{}, store.RefreshToken{}, false
	}
	t, err := s.users.GetRefreshToken(ctx, hashToken(token))
	if err != nil || t.Revoked || !t.UsedAt.IsZero() || !s.clock().Before(t.ExpiresAt) {
		return grant{}, store.RefreshToken{}, false
	}
	var g grant
	if json.Unmarshal(t.Data, &g) != nil {
		return grant{}, store.RefreshToken{}, false
	}
	return g, t, true
}

// revoke answers RFC 7009 token revocation. A refresh token revokes its
// whole chain; an access token is put on the revocation list until it
// expires. Only the client a token was issued to may revoke it; the answer
// is 200 whatever the token was, as the RFC asks.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "POST a form")
		return
	}
	ctx := r.Context()
	c, ok := s.callerClient(r, true)
	if !ok {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	token := r.PostForm.Get("token")
	if strings.HasPrefix(token, "rt_") {
		t, err := s.users.GetRefreshToken(ctx, hashToken(token))
		if err == nil && t.ClientID == c.ID {
			if err := s.users.RevokeRefreshChain(ctx, t.Tenant, t.ChainID); err != nil {
				s.logger.ErrorContext(ctx, "auth: revoke refresh chain", "err", err)
				writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again")
				return
			}
		}
	} else if cl, err := s.Verify(ctx, token); err == nil && cl.ClientID == c.ID {
		if err := s.revocations.revokeToken(ctx, cl.Tenant, cl.ID, cl.ExpiresAt); err != nil {
			s.logger.ErrorContext(ctx, "auth: revoke access token", "err", err)
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again")
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// userinfo answers OpenID Connect userinfo for a user's access token.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	cl, err := s.Verify(r.Context(), bearerToken(r))
	if err != nil || cl.UserID() == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hearth", error="invalid_token"`)
		writeOAuthErrorNoAuth(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	info := map[string]any{"sub": cl.Subject, "tenant": cl.Tenant}
	if cl.FhirUser != "" {
		info["fhirUser"] = s.audience + "/" + cl.FhirUser
	}
	if u, err := s.users.GetUser(r.Context(), cl.Tenant, cl.Subject); err == nil {
		info["preferred_username"] = u.Username
	}
	writeJSON(w, info)
}

func writeOAuthErrorNoAuth(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}
