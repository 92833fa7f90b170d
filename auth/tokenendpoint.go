package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/store"
)

func jsonMarshal(v any) ([]byte, error)   { return json.Marshal(v) }
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// hashToken is what the store keeps of a bearer secret (refresh token,
// code): its SHA-256, so a copy of the table grants nothing.
func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// issued collects, while op builds a token response, the grant behind it,
// so the response can carry SMART's launch context (patient, encounter),
// fhirUser and the scope as really granted.
type issued struct {
	grant   grant
	refresh string
	set     bool
}

type issuedKey struct{}

// noteIssued records the grant of the tokens being issued in this request.
func noteIssued(ctx context.Context, g grant, refresh string) {
	if is, ok := ctx.Value(issuedKey{}).(*issued); ok {
		is.grant, is.refresh, is.set = g, refresh, true
	}
}

type assertedKey struct{}

// assertedClient is the client whose private_key_jwt assertion the token
// endpoint verified for this request.
func assertedClient(ctx context.Context) (store.Client, bool) {
	c, ok := ctx.Value(assertedKey{}).(store.Client)
	return c, ok
}

// token answers /oauth2/token. It verifies a client assertion itself
// (SMART Backend Services: RS384/ES384, aud = this endpoint, jti once),
// hands the request to op, and completes op's JSON answer with the SMART
// fields op does not know.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuthError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form")
		return
	}
	ctx := r.Context()
	if r.PostForm.Get("client_assertion_type") != "" || r.PostForm.Get("client_assertion") != "" {
		c, err := s.verifyClientAssertion(ctx, r.PostForm)
		if err != nil {
			s.logger.InfoContext(ctx, "client assertion refused", "err", err)
			writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
			return
		}
		if !s.limits.allowClient(c.ID) {
			writeOAuthError(w, http.StatusTooManyRequests, "slow_down", "too many requests")
			return
		}
		// op would check the assertion its own way (aud = issuer); it sees
		// an authenticated client instead.
		form := cloneValues(r.PostForm)
		form.Del("client_assertion")
		form.Del("client_assertion_type")
		form.Set("client_id", c.ID)
		r.PostForm, r.Form = form, form
		ctx = context.WithValue(ctx, assertedKey{}, c)
	} else if id := clientIDOf(r); id != "" && !s.limits.allowClient(id) {
		writeOAuthError(w, http.StatusTooManyRequests, "slow_down", "too many requests")
		return
	}
	is := &issued{}
	ctx = context.WithValue(ctx, issuedKey{}, is)
	rec := &bufferedResponse{header: http.Header{}}
	s.provider.ServeHTTP(rec, r.WithContext(ctx))
	body := rec.body.Bytes()
	if rec.status() == http.StatusOK && is.set {
		body = s.completeTokenResponse(body, is.grant)
		kind := EventTokenIssued
		if r.PostForm.Get("grant_type") == "refresh_token" {
			kind = EventTokenRefreshed
		}
		g := is.grant
		subject := g.UserID
		if subject == "" {
			subject = g.ClientID
		}
		if err := s.RecordAuth(ctx, AuthEvent{Kind: kind, Tenant: g.Tenant, Subject: subject, FhirUser: g.FhirUser,
			ClientID: g.ClientID, IsUser: g.UserID != "", Address: RemoteAddress(r), Patient: g.Patient}); err != nil {
			// No token leaves without its AuditEvent.
			writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again")
			return
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rec.status())
	w.Write(body)
}

// completeTokenResponse adds SMART's context to op's token response: the
// scope as granted (op saw offline_access for online_access), patient,
// encounter, fhirUser, need_patient_banner; and drops op's id_token unless
// openid was granted (op always makes one in the code flow).
func (s *Server) completeTokenResponse(body []byte, g grant) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	m["scope"] = g.Scope
	if !g.has("openid") {
		delete(m, "id_token")
	}
	if g.Patient != "" {
		m["patient"] = g.Patient
		m["need_patient_banner"] = true
	}
	if g.Encounter != "" {
		m["encounter"] = g.Encounter
	}
	if g.FhirUser != "" && g.UserID != "" && (g.has("fhirUser") || g.has("profile")) {
		m["fhirUser"] = s.audience + "/" + g.FhirUser
	}
	if g.Tenant != "" {
		m["tenant"] = g.Tenant
	}
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

// clientIDOf is the client a token request names, for rate limiting.
func clientIDOf(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if u, err := url.QueryUnescape(id); err == nil {
			return u
		}
	}
	return r.PostForm.Get("client_id")
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// bufferedResponse holds op's answer so it can be completed before sending.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}

// writeOAuthError answers with an RFC 6749 error object.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="hearth"`)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// bearerToken is the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
