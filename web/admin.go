package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/fhir"
)

// The admin API is JSON over bearer tokens. A caller is an administrator
// when its token carries the "admin" role (a user) or grants system/*
// write access (a backend integration); it acts in its token's tenant.

type apiError struct {
	Error string `json:"error"`
}

func writeAPI(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (p *Pages) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fhir.Error
	status := http.StatusInternalServerError
	msg := "internal error"
	if errors.As(err, &fe) {
		switch fe.Kind {
		case fhir.KindInvalid:
			status, msg = http.StatusBadRequest, fe.Message
		case fhir.KindConflict:
			status, msg = http.StatusConflict, fe.Message
		case fhir.KindNotFound:
			status, msg = http.StatusNotFound, fe.Message
		case fhir.KindNotSupported:
			status, msg = http.StatusNotImplemented, fe.Message
		}
	}
	if status == http.StatusInternalServerError {
		p.log.ErrorContext(r.Context(), "web: admin API", "path", r.URL.Path, "err", err)
	}
	writeAPI(w, status, apiError{msg})
}

// admin authenticates an administrator and returns its tenant.
func (p *Pages) admin(w http.ResponseWriter, r *http.Request) (string, bool) {
	cl, ok := p.adminClaims(w, r)
	return cl.Tenant, ok
}

// adminClaims authenticates an administrator and returns its token's claims.
func (p *Pages) adminClaims(w http.ResponseWriter, r *http.Request) (auth.Claims, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	cl, err := p.auth.Verify(r.Context(), strings.TrimSpace(tok))
	if !strings.EqualFold(scheme, "Bearer") || err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hearth", error="invalid_token"`)
		writeAPI(w, http.StatusUnauthorized, apiError{"invalid_token"})
		return auth.Claims{}, false
	}
	sc, _ := scopeParse(cl.Scope)
	systemWriter := cl.UserID() == "" && slices.ContainsFunc(sc.Resource, func(s scopeT) bool {
		return s.Context == "system" && s.Type == "*" && s.Perms&(permCreate|permUpdate) == permCreate|permUpdate
	})
	if !slices.Contains(cl.Roles, "admin") && !systemWriter {
		writeAPI(w, http.StatusForbidden, apiError{"insufficient_scope"})
		return auth.Claims{}, false
	}
	return cl, true
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fhir.Errorf(fhir.KindInvalid, "malformed JSON body")
	}
	return nil
}

func (p *Pages) adminCreateUser(w http.ResponseWriter, r *http.Request) {
	tenant, ok := p.admin(w, r)
	if !ok {
		return
	}
	var in struct {
		Username     string   `json:"username"`
		Password     string   `json:"password"`
		FhirUser     string   `json:"fhirUser"`
		Roles        []string `json:"roles"`
		Organization string   `json:"organization"`
		Verified     bool     `json:"verified"`
	}
	if err := decode(r, &in); err != nil {
		p.apiFail(w, r, err)
		return
	}
	u, err := p.auth.CreateUser(r.Context(), auth.NewUser{Tenant: tenant, Username: in.Username, Password: in.Password,
		FhirUser: in.FhirUser, Roles: in.Roles, Organization: in.Organization, Verified: in.Verified})
	if err != nil {
		p.apiFail(w, r, err)
		return
	}
	writeAPI(w, http.StatusCreated, map[string]any{"id": u.ID, "username": u.Username, "fhirUser": u.FhirUser, "roles": u.Roles, "tenant": u.Tenant})
}

func (p *Pages) adminSetPassword(w http.ResponseWriter, r *http.Request) {
	tenant, ok := p.admin(w, r)
	if !ok {
		return
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		p.apiFail(w, r, err)
		return
	}
	if err := p.auth.SetPassword(r.Context(), tenant, r.PathValue("id"), in.Password); err != nil {
		p.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Pages) adminSignOut(w http.ResponseWriter, r *http.Request) {
	tenant, ok := p.admin(w, r)
	if !ok {
		return
	}
	if err := p.auth.SignOutEverywhere(r.Context(), tenant, r.PathValue("id")); err != nil {
		p.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (p *Pages) adminLaunch(w http.ResponseWriter, r *http.Request) {
	tenant, ok := p.admin(w, r)
	if !ok {
		return
	}
	var in auth.LaunchContext
	if err := decode(r, &in); err != nil {
		p.apiFail(w, r, err)
		return
	}
	id, err := p.auth.CreateLaunch(r.Context(), tenant, in)
	if err != nil {
		p.apiFail(w, r, err)
		return
	}
	writeAPI(w, http.StatusCreated, map[string]string{"launch": id})
}

func (p *Pages) adminRegisterClient(w http.ResponseWriter, r *http.Request) {
	tenant, ok := p.admin(w, r)
	if !ok {
		return
	}
	var in struct {
		Name         string   `json:"client_name"`
		Scope        string   `json:"scope"`
		AuthMethod   string   `json:"token_endpoint_auth_method"`
		RedirectURIs []string `json:"redirect_uris"`
		JWKS         any      `json:"jwks"`
		JWKSURI      string   `json:"jwks_uri"`
	}
	if err := decode(r, &in); err != nil {
		p.apiFail(w, r, err)
		return
	}
	var jwks string
	if in.JWKS != nil {
		b, _ := json.Marshal(in.JWKS)
		jwks = string(b)
	}
	id, secret, err := auth.RegisterApp(r.Context(), p.auth.Accounts(), auth.App{Tenant: tenant, Name: in.Name, Scopes: in.Scope,
		AuthMethod: in.AuthMethod, RedirectURIs: in.RedirectURIs, JWKS: jwks, JWKSURL: in.JWKSURI})
	if err != nil {
		p.apiFail(w, r, err)
		return
	}
	out := map[string]any{"client_id": id, "scope": in.Scope, "token_endpoint_auth_method": in.AuthMethod}
	if secret != "" {
		out["client_secret"] = secret
	}
	writeAPI(w, http.StatusCreated, out)
}
