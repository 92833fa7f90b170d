package web

import (
	"net/http"

	"github.com/hearth-fhir/hearth/auth"
)

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
	ev := auth.AuthEvent{Kind: auth.EventMFASuccess, Tenant: s.Tenant, Subject: s.UserID, FhirUser: s.User.FhirUser,
		IsUser: true, Address: auth.RemoteAddress(r)}
	if err := p.auth.VerifyTOTP(r.Context(), s, r.PostFormValue("code")); err != nil {
		ev.Kind, ev.Failed, ev.Reason = auth.EventMFAFailure, true, "invalid code"
		p.auth.RecordAuth(r.Context(), ev)
		p.render(w, http.StatusUnauthorized, "mfa", page{Title: "Verification code", Error: "Invalid code.", ID: id, CSRF: p.csrf(w, r), Action: "/auth/mfa"})
		return
	}
	if err := p.auth.RecordAuth(r.Context(), ev); err != nil {
		p.fail(w, r, err)
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
