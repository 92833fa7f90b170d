package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/engine"
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
	if err != nil {
		if !fhir.IsKind(err, fhir.KindUnauthorized) {
			p.log.ErrorContext(r.Context(), "web: login", "err", err)
		}
		retry(http.StatusUnauthorized, "Invalid username or password.")
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

func (p *Pages) mfaPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if _, _, ok := p.requireSession(w, r, id); ok {
		p.render(w, http.StatusOK, "mfa", page{Title: "Verification code", ID: id, CSRF: p.csrf(w, r), Action: "/auth/mfa"})
	}
}

func (p *Pages) mfaSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	_, s, ok := p.requireSession(w, r, id)
	if !ok {
		return
	}
	if !checkCSRF(r) || !p.auth.AllowLogin(r) {
		p.render(w, http.StatusForbidden, "mfa", page{Title: "Verification code", Error: "Please try again.", ID: id, CSRF: p.csrf(w, r), Action: "/auth/mfa"})
		return
	}
	if err := p.auth.VerifyTOTP(r.Context(), s, r.PostFormValue("code")); err != nil {
		p.render(w, http.StatusUnauthorized, "mfa", page{Title: "Verification code", Error: "Invalid code.", ID: id, CSRF: p.csrf(w, r), Action: "/auth/mfa"})
		return
	}
	http.Redirect(w, r, continueURL(id), http.StatusSeeOther)
}

func (p *Pages) enrolPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	_, s, ok := p.requireSession(w, r, id)
	if !ok {
		return
	}
	secret, u, err := p.auth.BeginTOTP(r.Context(), s)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "mfa", page{Title: "Set up a second factor", ID: id, CSRF: p.csrf(w, r), Secret: secret, URL: u, Action: "/auth/mfa/enrol"})
}

func (p *Pages) enrolSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	_, s, ok := p.requireSession(w, r, id)
	if !ok {
		return
	}
	if !checkCSRF(r) {
		p.message(w, http.StatusForbidden, "Try again", "Your session expired. Please start again.")
		return
	}
	if err := p.auth.ConfirmTOTP(r.Context(), s, r.PostFormValue("code")); err != nil {
		p.message(w, http.StatusUnauthorized, "Invalid code", "That code was not right. Go back and set up the key again.")
		return
	}
	http.Redirect(w, r, continueURL(id), http.StatusSeeOther)
}

type patientOption struct{ ID, Name string }

func (p *Pages) patientPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	pr, s, ok := p.requireSession(w, r, id)
	if !ok {
		return
	}
	p.render(w, http.StatusOK, "patient", page{Title: "Choose a patient", ID: id, App: pr.ClientName, Patients: p.patients(r, s)})
}

// patients lists up to 50 current patients of the tenant, newest first,
// from type history until search lands. The listing runs as the user
// reading patients (user/Patient.rs).
func (p *Pages) patients(r *http.Request, s auth.Session) []patientOption {
	if p.engine == nil {
		return nil
	}
	sc, _ := scopeParse("user/Patient.rs")
	pr := engine.Principal{Tenant: s.Tenant, Subject: s.UserID, FhirUser: s.User.FhirUser, Roles: s.User.Roles, Scopes: sc}
	page, err := p.engine.History(r.Context(), pr, engine.HistoryRequest{Type: "Patient", Count: 200})
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []patientOption
	for _, rec := range page.Records {
		if seen[rec.ID] || len(out) >= 50 {
			continue
		}
		seen[rec.ID] = true
		cur, err := p.engine.Read(r.Context(), pr, "Patient", rec.ID)
		if err != nil {
			continue
		}
		out = append(out, patientOption{ID: rec.ID, Name: patientName(cur.Record.Body)})
	}
	return out
}

// patientName renders a Patient's first name for the picker.
func patientName(body []byte) string {
	var pt struct {
		Name []struct {
			Text   string   `json:"text"`
			Family string   `json:"family"`
			Given  []string `json:"given"`
		} `json:"name"`
	}
	if json.Unmarshal(body, &pt) != nil || len(pt.Name) == 0 {
		return "(no name)"
	}
	n := pt.Name[0]
	if n.Text != "" {
		return n.Text
	}
	s := n.Family
	for i := len(n.Given) - 1; i >= 0; i-- {
		s = n.Given[i] + " " + s
	}
	return s
}

var patientID = regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)

func (p *Pages) consentPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("id")
	pr, s, ok := p.requireSession(w, r, id)
	if !ok {
		return
	}
	if s.NeedsMFA(p.auth.LoginPolicy()) {
		http.Redirect(w, r, continueURL(id), http.StatusFound)
		return
	}
	patient := pr.Patient
	if pr.NeedsPatient && !isPatientUser(s) {
		patient = q.Get("patient")
		if !patientID.MatchString(patient) {
			http.Redirect(w, r, "/auth/patient?id="+url.QueryEscape(id), http.StatusFound)
			return
		}
	}
	p.render(w, http.StatusOK, "consent", page{Title: "Allow access?", ID: id, CSRF: p.csrf(w, r), App: pr.ClientName,
		Scopes: describeScopes(pr.Offered), Patient: patient, User: s.User.Username})
}

func (p *Pages) consentSubmit(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("id")
	_, s, ok := p.requireSession(w, r, id)
	if !ok {
		return
	}
	if !checkCSRF(r) {
		p.message(w, http.StatusForbidden, "Try again", "Your session expired. Please start again from the app.")
		return
	}
	if s.NeedsMFA(p.auth.LoginPolicy()) {
		http.Redirect(w, r, continueURL(id), http.StatusSeeOther)
		return
	}
	var to string
	var err error
	if r.PostFormValue("decision") == "allow" {
		amr := []string{"pwd"}
		if s.MFADone {
			amr = append(amr, "otp", "mfa")
		}
		to, err = p.auth.Approve(r.Context(), id, s, auth.Approval{Scopes: r.PostForm["scope"], Patient: r.PostFormValue("patient"), AMR: amr})
	} else {
		to, err = p.auth.Deny(r.Context(), id)
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
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
