// Package web serves the pages a person sees while an app is authorized:
// login (with "Sign in with" for trusted identity providers), TOTP MFA and
// its enrolment, the patient picker and the consent page; logout; and the
// small JSON admin API for users, launches and clients. Pages are rendered
// on the server from embedded templates and use no JavaScript.
package web

import (
	"crypto/subtle"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/engine"
)

//go:embed templates/*.html
var templateFS embed.FS

// Cookie names. The session cookie is HttpOnly and SameSite=Lax; the CSRF
// cookie holds the value every form must echo (double submit).
const (
	sessionCookie = "hearth_session"
	csrfCookie    = "hearth_csrf"
)

// Pages is the web handler.
type Pages struct {
	auth   *auth.Server
	engine *engine.Engine
	log    *slog.Logger
	tmpl   *template.Template
	secure bool // cookies only over https
	mux    *http.ServeMux
}

// New builds the pages over an authorization server; eng lists patients
// for the picker (nil: the picker only takes a typed id).
func New(a *auth.Server, eng *engine.Engine, log *slog.Logger) (*Pages, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pages{auth: a, engine: eng, log: log, tmpl: t, secure: strings.HasPrefix(a.Issuer(), "https://"), mux: http.NewServeMux()}
	p.mux.HandleFunc("GET /auth/login", p.loginPage)
	p.mux.HandleFunc("POST /auth/login", p.loginSubmit)
	p.mux.HandleFunc("GET /auth/continue", p.next)
	p.mux.HandleFunc("GET /auth/mfa", p.mfaPage)
	p.mux.HandleFunc("POST /auth/mfa", p.mfaSubmit)
	p.mux.HandleFunc("GET /auth/mfa/enrol", p.enrolPage)
	p.mux.HandleFunc("POST /auth/mfa/enrol", p.enrolSubmit)
	p.mux.HandleFunc("GET /auth/patient", p.patientPage)
	p.mux.HandleFunc("GET /auth/consent", p.consentPage)
	p.mux.HandleFunc("POST /auth/consent", p.consentSubmit)
	p.mux.HandleFunc("GET /auth/idp/{idx}", p.idpStart)
	p.mux.HandleFunc("GET "+auth.PathIdPCallback, p.idpCallback)
	p.mux.HandleFunc(auth.PathLogout, p.logout)
	p.mux.HandleFunc("POST /auth/admin/users", p.adminCreateUser)
	p.mux.HandleFunc("POST /auth/admin/users/{id}/password", p.adminSetPassword)
	p.mux.HandleFunc("POST /auth/admin/users/{id}/signout", p.adminSignOut)
	p.mux.HandleFunc("POST /auth/admin/launch", p.adminLaunch)
	p.mux.HandleFunc("POST /auth/admin/clients", p.adminRegisterClient)
	p.mux.HandleFunc("POST /admin/keys/rotate", p.adminRotateKeys)
	p.mux.HandleFunc("GET /admin/keys/status", p.adminKeyStatus)
	return p, nil
}

// ServeHTTP serves /auth/* and /oauth2/logout.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	// No form-action: the consent form's redirect chain ends at the app's
	// registered redirect URI, which may have any scheme (native apps).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	p.mux.ServeHTTP(w, r)
}

// page is what every template gets.
type page struct {
	Title, Error, ID, CSRF, App string
	Data                        any
	IdPs                        []auth.IdP
	Secret, URL, Action         string
	Patients                    []patientOption
	Scopes                      []scopeOption
	Patient, User, Message      string
}

func (p *Pages) render(w http.ResponseWriter, status int, name string, pg page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := p.tmpl.ExecuteTemplate(w, name+".html", pg); err != nil {
		p.log.Error("web: render", "page", name, "err", err)
	}
}

func (p *Pages) message(w http.ResponseWriter, status int, title, msg string) {
	p.render(w, status, "message", page{Title: title, Message: msg})
}

// csrf returns the request's CSRF value, setting the cookie when missing.
func (p *Pages) csrf(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	v := randomToken()
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/auth", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteStrictMode})
	return v
}

// checkCSRF compares the form's value with the cookie's.
func checkCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && len(c.Value) >= 32 && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

func (p *Pages) setSession(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}

func (p *Pages) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
}

// session returns the browser's live session, if any.
func (p *Pages) session(r *http.Request) (auth.Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Session{}, false
	}
	s, err := p.auth.Session(r.Context(), c.Value)
	if err != nil {
		return auth.Session{}, false
	}
	return s, true
}
