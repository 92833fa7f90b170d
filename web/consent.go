package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/engine"
)

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
