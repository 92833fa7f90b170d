package auth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// authRequestTTL is how long a user has to log in and consent, and how long
// a code is valid after that (RFC 6749 recommends at most ten minutes).
const authRequestTTL = 10 * time.Minute

// authRequest is a pending or completed authorization request, stored as
// JSON in the store (auth_items) so it survives a restart.
type authRequest struct {
	ID                  string    `json:"id"`
	Tenant              string    `json:"tenant"`
	ClientID            string    `json:"client_id"`
	RedirectURI         string    `json:"redirect_uri"`
	State               string    `json:"state,omitempty"`
	Nonce               string    `json:"nonce,omitempty"`
	Requested           []string  `json:"requested"` // scopes as requested
	ResponseType        string    `json:"response_type"`
	ResponseMode        string    `json:"response_mode,omitempty"`
	CodeChallenge       string    `json:"code_challenge,omitempty"`
	CodeChallengeMethod string    `json:"code_challenge_method,omitempty"`
	Launch              string    `json:"launch,omitempty"` // EHR launch id
	LaunchPatient       string    `json:"launch_patient,omitempty"`
	LaunchEncounter     string    `json:"launch_encounter,omitempty"`
	Created             time.Time `json:"created"`
	Completed           bool      `json:"completed"`
	Grant               grant     `json:"grant"`
	Audience            string    `json:"aud"`
}

var _ op.AuthRequest = (*authRequest)(nil)

func (a *authRequest) GetID() string    { return a.ID }
func (a *authRequest) GetACR() string   { return "" }
func (a *authRequest) GetAMR() []string { return a.Grant.AMR }

// GetAudience is the FHIR base URL (for the access token) and the client
// (for the ID token, which op builds from the same list).
func (a *authRequest) GetAudience() []string  { return []string{a.Audience, a.ClientID} }
func (a *authRequest) GetAuthTime() time.Time { return a.Grant.AuthTime }
func (a *authRequest) GetClientID() string    { return a.ClientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}
func (a *authRequest) GetNonce() string                   { return a.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a *authRequest) GetState() string                   { return a.State }
func (a *authRequest) GetSubject() string                 { return a.Grant.UserID }
func (a *authRequest) Done() bool                         { return a.Completed }

// GetScopes is what was granted once the user consented (as op needs to
// see it, see grant.opScopes), what was requested before.
func (a *authRequest) GetScopes() []string {
	if a.Completed {
		return a.Grant.opScopes()
	}
	return a.Requested
}

// smartParams are the SMART authorization parameters op does not parse;
// the authorize handler passes them to CreateAuthRequest in the context.
type smartParams struct {
	aud    string
	launch string
}

type smartParamsKey struct{}

// authorize answers /oauth2/authorize (GET and POST, "authorize-post"):
// it hands the SMART parameters to CreateAuthRequest and lets op do the
// rest (client, redirect URI, response type), which redirects to the login
// page or, for a bad request, back to the client with an error.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed request", http.StatusBadRequest)
		return
	}
	p := smartParams{aud: r.Form.Get("aud"), launch: r.Form.Get("launch")}
	s.provider.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), smartParamsKey{}, p)))
}

// CreateAuthRequest checks the SMART rules op does not know and stores the
// request. Errors are OAuth errors, which op sends back to the (already
// validated) redirect URI.
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	p, _ := ctx.Value(smartParamsKey{}).(smartParams)
	c, err := s.accounts.LookupClient(ctx, req.ClientID)
	if err != nil {
		return nil, s.serverError(ctx, "look up client", err)
	}
	if strings.TrimSuffix(p.aud, "/") != s.audience {
		return nil, oidc.ErrInvalidRequest().WithDescription("aud must be this server's FHIR base URL")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if req.CodeChallenge == "" && c.AuthMethod != store.AuthSecretBasic {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required")
	}
	if _, err := scope.Parse(strings.Join(req.Scopes, " ")); err != nil {
		return nil, oidc.ErrInvalidScope().WithDescription("malformed scope")
	}
	now := s.clock().UTC()
	ar := &authRequest{
		ID: "ar_" + randomString(16), Tenant: c.Tenant, ClientID: c.ID, RedirectURI: req.RedirectURI,
		State: req.State, Nonce: req.Nonce, Requested: req.Scopes, ResponseType: string(req.ResponseType),
		ResponseMode: string(req.ResponseMode), CodeChallenge: req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod), Created: now, Audience: s.audience,
	}
	if p.launch != "" {
		lc, err := s.server.launchContext(ctx, c.Tenant, p.launch)
		if err != nil {
			return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired launch")
		}
		ar.Launch, ar.LaunchPatient, ar.LaunchEncounter = p.launch, lc.Patient, lc.Encounter
	}
	if err := s.putAuthRequest(ctx, ar); err != nil {
		return nil, err
	}
	return ar, nil
}

func (s *storage) putAuthRequest(ctx context.Context, ar *authRequest) error {
	data, err := jsonMarshal(ar)
	if err != nil {
		return err
	}
	// Written over the old version: delete, then put.
	if err := s.users.DeleteAuthItem(ctx, itemAuthRequest, ar.ID); err != nil {
		return s.serverError(ctx, "store auth request", err)
	}
	err = s.users.PutAuthItem(ctx, store.AuthItem{Tenant: ar.Tenant, Kind: itemAuthRequest, ID: ar.ID, Data: data,
		ExpiresAt: ar.Created.Add(2 * authRequestTTL)}, s.clock())
	if err != nil {
		return s.serverError(ctx, "store auth request", err)
	}
	return nil
}

// AuthRequestByID loads a pending request.
func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return s.authRequest(ctx, id)
}

func (s *storage) authRequest(ctx context.Context, id string) (*authRequest, error) {
	it, err := s.users.GetAuthItem(ctx, itemAuthRequest, id, s.clock())
	if fhir.IsKind(err, fhir.KindNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request")
	}
	if err != nil {
		return nil, s.serverError(ctx, "read auth request", err)
	}
	var ar authRequest
	if err := jsonUnmarshal(it.Data, &ar); err != nil {
		return nil, s.serverError(ctx, "decode auth request", err)
	}
	return &ar, nil
}

// AuthRequestByCode finds the request a code was issued for. The code is
// deleted as it is read, so it works once (op deletes the request too once
// tokens are issued).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	it, err := s.users.GetAuthItem(ctx, itemCode, hashToken(code), s.clock())
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	if err := s.users.DeleteAuthItem(ctx, itemCode, hashToken(code)); err != nil {
		return nil, s.serverError(ctx, "delete code", err)
	}
	ar, err := s.authRequest(ctx, string(it.Data))
	if err != nil || !ar.Completed {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid code")
	}
	return ar, nil
}

// SaveAuthCode remembers the code op generated for a completed request.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	ar, err := s.authRequest(ctx, id)
	if err != nil {
		return err
	}
	return s.users.PutAuthItem(ctx, store.AuthItem{Tenant: ar.Tenant, Kind: itemCode, ID: hashToken(code),
		Data: []byte(id), ExpiresAt: s.clock().Add(authRequestTTL)}, s.clock())
}

// DeleteAuthRequest forgets a request once its tokens are issued.
func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.users.DeleteAuthItem(ctx, itemAuthRequest, id)
}

// PendingRequest is what the login and consent pages show about an
// authorization request.
type PendingRequest struct {
	ID         string
	Tenant     string
	ClientID   string
	ClientName string
	// Offered are the requested scopes the client may be granted; the user
	// may grant fewer.
	Offered scope.Set
	// Patient is the launch patient (EHR launch), if any.
	Patient   string
	Encounter string
	// NeedsPatient: the request asks for a patient context (launch/patient
	// or patient/ scopes) that no launch supplies; the picker asks.
	NeedsPatient bool
	Completed    bool
}

// PendingRequest loads an authorization request for the pages.
func (s *Server) PendingRequest(ctx context.Context, id string) (PendingRequest, error) {
	ar, err := s.storage.authRequest(ctx, id)
	if err != nil {
		return PendingRequest{}, fhir.Errorf(fhir.KindNotFound, "unknown or expired authorization request")
	}
	c, err := s.accounts.LookupClient(ctx, ar.ClientID)
	if err != nil {
		return PendingRequest{}, err
	}
	offered, err := narrowScopes(ar.Requested, c.Scopes)
	if err != nil {
		return PendingRequest{}, err
	}
	pr := PendingRequest{ID: ar.ID, Tenant: ar.Tenant, ClientID: c.ID, ClientName: c.Name, Offered: offered,
		Patient: ar.LaunchPatient, Encounter: ar.LaunchEncounter, Completed: ar.Completed}
	pr.NeedsPatient = pr.Patient == "" && needsPatient(offered)
	return pr, nil
}

// needsPatient reports whether a scope set needs a patient in context.
func needsPatient(set scope.Set) bool {
	if slices.Contains(set.Other, "launch/patient") {
		return true
	}
	for _, sc := range set.Resource {
		if sc.Context == "patient" {
			return true
		}
	}
	return false
}

// Approval is what the user decided on the consent page.
type Approval struct {
	// Scopes are the granted scopes: a subset of PendingRequest.Offered.
	Scopes []string
	// Patient is the chosen patient id, when the request needs one and no
	// launch gave it.
	Patient string
	// AMR says how the user authenticated (pwd, otp, or the IdP's).
	AMR []string
	IdP string
}

// Approve completes an authorization request for the session's user and
// returns the URL to send the browser to: op's callback, which issues the
// code and redirects to the client.
func (s *Server) Approve(ctx context.Context, id string, sess Session, a Approval) (string, error) {
	ar, err := s.storage.authRequest(ctx, id)
	if err != nil {
		return "", fhir.Errorf(fhir.KindNotFound, "unknown or expired authorization request")
	}
	pr, err := s.PendingRequest(ctx, id)
	if err != nil {
		return "", err
	}
	if sess.Tenant != ar.Tenant {
		return "", fhir.Errorf(fhir.KindForbidden, "this user belongs to another organisation than the app")
	}
	offered := strings.Fields(pr.Offered.String())
	var granted []string
	for _, sc := range a.Scopes {
		if !slices.Contains(offered, sc) {
			return "", fhir.Errorf(fhir.KindInvalid, "scope %q was not offered", sc)
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	set, err := scope.Parse(strings.Join(granted, " "))
	if err != nil {
		return "", err
	}
	patient := pr.Patient
	if strings.HasPrefix(sess.User.FhirUser, "Patient/") {
		// A patient acts for themself; the launch or picker cannot change that.
		patient = strings.TrimPrefix(sess.User.FhirUser, "Patient/")
	} else if patient == "" {
		patient = a.Patient
	}
	if needsPatient(set) && patient == "" {
		return "", fhir.Errorf(fhir.KindInvalid, "choose a patient")
	}
	if !needsPatient(set) && pr.Patient == "" {
		patient = ""
	}
	ar.Completed = true
	ar.Grant = grant{Tenant: ar.Tenant, ClientID: ar.ClientID, UserID: sess.UserID, Scope: set.String(),
		Patient: patient, Encounter: pr.Encounter, Roles: sess.User.Roles, AuthTime: sess.CreatedAt, AMR: a.AMR, IdP: a.IdP, Session: sess.ID,
		// In the access token for the resource server (policy, audit); the
		// app is told only with the fhirUser (or profile) scope.
		FhirUser: sess.User.FhirUser, Org: sess.User.Organization, Verified: sess.User.Verified}
	if err := s.storage.putAuthRequest(ctx, ar); err != nil {
		return "", err
	}
	return s.issuer + pathAuthorize + "/callback?id=" + url.QueryEscape(id), nil
}

// Deny ends an authorization request the user refused and returns where to
// send the browser: the client's redirect URI with error=access_denied.
func (s *Server) Deny(ctx context.Context, id string) (string, error) {
	ar, err := s.storage.authRequest(ctx, id)
	if err != nil {
		return "", fhir.Errorf(fhir.KindNotFound, "unknown or expired authorization request")
	}
	if err := s.storage.DeleteAuthRequest(ctx, id); err != nil {
		return "", err
	}
	q := url.Values{"error": {"access_denied"}}
	if ar.State != "" {
		q.Set("state", ar.State)
	}
	sep := "?"
	if strings.Contains(ar.RedirectURI, "?") {
		sep = "&"
	}
	return ar.RedirectURI + sep + q.Encode(), nil
}

// LaunchContext is what an EHR hands an app it launches.
type LaunchContext struct {
	Patient   string `json:"patient,omitempty"`
	Encounter string `json:"encounter,omitempty"`
}

// launchTTL is how long an EHR launch id may be used.
const launchTTL = time.Hour

// CreateLaunch stores an EHR launch context and returns the opaque launch
// id the EHR passes to the app (SMART EHR launch).
func (s *Server) CreateLaunch(ctx context.Context, tenant string, lc LaunchContext) (string, error) {
	id := "l_" + randomString(16)
	data, err := jsonMarshal(lc)
	if err != nil {
		return "", err
	}
	now := s.clock()
	return id, s.users.PutAuthItem(ctx, store.AuthItem{Tenant: tenant, Kind: itemLaunch, ID: id, Data: data,
		ExpiresAt: now.Add(launchTTL)}, now)
}

func (s *Server) launchContext(ctx context.Context, tenant, id string) (LaunchContext, error) {
	it, err := s.users.GetAuthItem(ctx, itemLaunch, id, s.clock())
	if err != nil {
		return LaunchContext{}, err
	}
	if it.Tenant != tenant {
		return LaunchContext{}, fhir.Errorf(fhir.KindNotFound, "launch")
	}
	var lc LaunchContext
	return lc, jsonUnmarshal(it.Data, &lc)
}
