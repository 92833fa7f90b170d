package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/fhir"
)

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func continueURL(id string) string { return "/auth/continue?id=" + url.QueryEscape(id) }

// pending loads the authorization request named by ?id=, answering with a
// page when it is unknown.
func (p *Pages) pending(w http.ResponseWriter, r *http.Request, id string) (auth.PendingRequest, bool) {
	pr, err := p.auth.PendingRequest(r.Context(), id)
	if err != nil {
		p.message(w, http.StatusBadRequest, "Sign-in link expired", "This sign-in request is unknown or has expired. Start again from the app.")
		return auth.PendingRequest{}, false
	}
	return pr, true
}

func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	pr, ok := p.pending(w, r, id)
	if !ok {
		return
	}
	if s, ok := p.session(r); ok && s.Tenant == pr.Tenant {
		http.Redirect(w, r, continueURL(id), http.StatusFound)
		return
	}
	p.render(w, http.StatusOK, "login", page{Title: "Sign in", ID: id, CSRF: p.csrf(w, r), App: pr.ClientName, IdPs: p.auth.LoginProviders()})
}

func (p *Pages) loginSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	pr, ok := p.pending(w, r, id)
	if !ok {
		return
	}
	retry := func(status int, msg string) {
		p.render(w, status, "login", page{Title: "Sign in", Error: msg, ID: id, CSRF: p.csrf(w, r), App: pr.ClientName, IdPs: p.auth.LoginProviders()})
	}
	if !checkCSRF(r) {
		retry(http.StatusForbidden, "Your session expired. Please try again.")
		return
	}
	if !p.auth.AllowLogin(r) {
		w.Header().Set("Retry-After", "60")
		retry(http.StatusTooManyRequests, "Too many attempts. Wait a minute and try again.")
		return
	}
	u, err := p.auth.Login(r.Context(), pr.Tenant, r.PostFormValue("username"), r.PostFormValue("password"))
	ev := auth.AuthEvent{Kind: auth.EventLogin, Tenant: pr.Tenant, Subject: u.ID, FhirUser: u.FhirUser, ClientID: pr.ClientID,
		IsUser: true, Address: auth.RemoteAddress(r)}
	if err != nil {
		if !fhir.IsKind(err, fhir.KindUnauthorized) {
			p.log.ErrorContext(r.Context(), "web: login", "err", err)
		}
		ev.Kind, ev.Failed, ev.Reason = auth.EventLoginFailed, true, "invalid username or password"
		// An existing user's failed login is on their record.
		ev.Subject, ev.FhirUser, _ = auth.FailedLoginUser(err)
		if errors.Is(err, auth.ErrLocked) {
			ev.Kind, ev.Reason = auth.EventLockout, "account locked"
		}
		p.auth.RecordAuth(r.Context(), ev)
		retry(http.StatusUnauthorized, "Invalid username or password.")
		return
	}
	if err := p.auth.RecordAuth(r.Context(), ev); err != nil {
		p.fail(w, r, err)
		return
	}
	cookie, err := p.auth.StartSession(r.Context(), u)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.setSession(w, cookie)
	http.Redirect(w, r, continueURL(id), http.StatusSeeOther)
}

// next sends the browser to the next step of an authorization: login, MFA
// (enrolment when required and not set up), patient picker, consent.
func (p *Pages) next(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	pr, ok := p.pending(w, r, id)
	if !ok {
		return
	}
	s, ok := p.session(r)
	if !ok || s.Tenant != pr.Tenant {
		http.Redirect(w, r, auth.PathLogin+"?id="+url.QueryEscape(id), http.StatusFound)
		return
	}
	switch {
	case s.NeedsMFA(p.auth.LoginPolicy()) && s.User.TOTPEnabled:
		http.Redirect(w, r, "/auth/mfa?id="+url.QueryEscape(id), http.StatusFound)
	case s.NeedsMFA(p.auth.LoginPolicy()):
		http.Redirect(w, r, "/auth/mfa/enrol?id="+url.QueryEscape(id), http.StatusFound)
	case pr.NeedsPatient && !isPatientUser(s):
		http.Redirect(w, r, "/auth/patient?id="+url.QueryEscape(id), http.StatusFound)
	default:
		http.Redirect(w, r, "/auth/consent?id="+url.QueryEscape(id), http.StatusFound)
	}
}

func isPatientUser(s auth.Session) bool {
	return len(s.User.FhirUser) > 8 && s.User.FhirUser[:8] == "Patient/"
}

// requireSession loads the request and the session for a step after login.
func (p *Pages) requireSession(w http.ResponseWriter, r *http.Request, id string) (auth.PendingRequest, auth.Session, bool) {
	pr, ok := p.pending(w, r, id)
	if !ok {
		return pr, auth.Session{}, false
	}
	s, ok := p.session(r)
	if !ok || s.Tenant != pr.Tenant {
		http.Redirect(w, r, auth.PathLogin+"?id="+url.QueryEscape(id), http.StatusFound)
		return pr, s, false
	}
	return pr, s, true
}

func (p *Pages) idpStart(w http.ResponseWriter, r *http.Request) {
	idx, err := strconv.Atoi(r.PathValue("idx"))
	id := r.URL.Query().Get("id")
	if err != nil {
		p.message(w, http.StatusNotFound, "Not found", "No such identity provider.")
		return
	}
	if _, ok := p.pending(w, r, id); !ok {
		return
	}
	to, err := p.auth.ExternalLoginURL(r.Context(), idx, id)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

func (p *Pages) idpCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("error") != "" {
		p.message(w, http.StatusUnauthorized, "Sign-in failed", "The identity provider did not sign you in.")
		return
	}
	u, reqID, err := p.auth.CompleteExternalLogin(r.Context(), q.Get("state"), q.Get("code"))
	if err != nil {
		p.message(w, http.StatusUnauthorized, "Sign-in failed", "The identity provider did not sign you in.")
		return
	}
	cookie, err := p.auth.StartExternalSession(r.Context(), u)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.setSession(w, cookie)
	http.Redirect(w, r, continueURL(reqID), http.StatusFound)
}

// logout ends the browser session (OpenID RP-initiated logout). It goes
// back to post_logout_redirect_uri only when that is one of the named
// client's redirect URIs.
func (p *Pages) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s, ok := p.session(r); ok {
			p.auth.RecordAuth(r.Context(), auth.AuthEvent{Kind: auth.EventLogout, Tenant: s.Tenant, Subject: s.UserID,
				FhirUser: s.User.FhirUser, IsUser: true, Address: auth.RemoteAddress(r)})
		}
		if err := p.auth.EndSession(r.Context(), c.Value); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	p.clearSession(w)
	if to := r.FormValue("post_logout_redirect_uri"); to != "" && p.auth.IsRedirectURI(r.Context(), r.FormValue("client_id"), to) {
		if st := r.FormValue("state"); st != "" {
			to += map[bool]string{true: "&", false: "?"}[containsQuery(to)] + "state=" + url.QueryEscape(st)
		}
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	p.message(w, http.StatusOK, "Signed out", "You are signed out.")
}

func containsQuery(u string) bool {
	for i := 0; i < len(u); i++ {
		if u[i] == '?' {
			return true
		}
	}
	return false
}

// fail answers an unexpected error with a generic page; the detail is logged.
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fhir.Error
	if errors.As(err, &fe) && fe.Kind != fhir.KindInternal && fe.Kind != fhir.KindUnavailable {
		p.message(w, http.StatusBadRequest, "Cannot continue", fe.Message)
		return
	}
	p.log.ErrorContext(r.Context(), "web: request failed", "path", r.URL.Path, "err", err)
	p.message(w, http.StatusInternalServerError, "Something went wrong", "Please try again later.")
}
