package clienttest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// chromiumPath finds the browser: $HEARTH_CHROMIUM, else Debian's
// /usr/bin/chromium (scripts/test installs it). Without one the test fails:
// a browser test that skips itself proves nothing.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HEARTH_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: install Debian's chromium package (scripts/test does) or set HEARTH_CHROMIUM")
	return ""
}

// TestSMARTStandaloneLaunchInBrowser: fhirclient, the reference SMART
// JavaScript client, runs in headless Chromium (driven by playwright-core)
// from a page on another origin. It discovers Hearth's SMART configuration,
// sends the user (a patient, under the default access policy) to Hearth's
// real login page, the user allows access, and the app exchanges the code
// (PKCE) and reads the Patient with the token. (The patient picker a
// clinician sees is exercised by web/launch_test.go.)
func TestSMARTStandaloneLaunchInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	dir := npmCI(t, "smart", "fhirclient")
	srv := hearthtest.Start(t, hearthtest.OpenStore(t, "sqlite"))
	ctx := context.Background()
	if err := srv.Store.EnsureTenant(ctx, store.Tenant{ID: "default", Name: "Default"}); err != nil {
		t.Fatal(err)
	}

	// The app: two static pages and fhirclient's browser bundle.
	files := map[string]string{
		"/launch.html":    filepath.Join(dir, "launch.html"),
		"/app.html":       filepath.Join(dir, "app.html"),
		"/fhir-client.js": filepath.Join(dir, "node_modules", "fhirclient", "build", "fhir-client.js"),
	}
	appSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, f)
	}))
	t.Cleanup(appSrv.Close)
	// A different host name than Hearth's 127.0.0.1, so the app really is
	// another origin (CORS is exercised).
	appURL := strings.Replace(appSrv.URL, "127.0.0.1", "localhost", 1)

	clientID, _, err := auth.RegisterApp(ctx, srv.Store, auth.App{Tenant: "default", Name: "Browser SMART app",
		AuthMethod: store.AuthNone, RedirectURIs: []string{appURL + "/app.html"},
		Scopes: "launch/patient patient/*.rs openid fhirUser offline_access"})
	if err != nil {
		t.Fatal(err)
	}
	// A patient using a patient-facing app: under the default access
	// policy patients read their own record (docs/access-policy.md).
	patientID := createPatient(t, srv, `{"resourceType":"Patient","name":[{"family":"Clinic","given":["Rebecca"]}],"gender":"female"}`)
	if _, err := srv.Auth.CreateUser(ctx, auth.NewUser{Tenant: "default", Username: "rebecca", Password: "vicodin and lupus",
		FhirUser: "Patient/" + patientID, Roles: []string{"patient"}}); err != nil {
		t.Fatal(err)
	}

	launch := appURL + "/launch.html?" + url.Values{"iss": {srv.FHIR()}, "client_id": {clientID}}.Encode()
	cmd := exec.Command("node", filepath.Join(dir, "standalone.mjs"), launch, "rebecca", "vicodin and lupus", patientID, chromium)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser run: %v\n%s", err, stderr.String())
	}
	var res struct {
		Error     string `json:"error"`
		PatientID string `json:"patientId"`
		FhirUser  string `json:"fhirUser"`
		Scope     string `json:"scope"`
		Refresh   bool   `json:"hasRefreshToken"`
		Patient   struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Name         []struct {
				Family string `json:"family"`
			} `json:"name"`
		} `json:"patient"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
		t.Fatalf("app result %s (%v)\n%s", out, err, stderr.String())
	}
	if res.Patient.ResourceType != "Patient" || res.Patient.ID != patientID || res.PatientID != patientID ||
		len(res.Patient.Name) == 0 || res.Patient.Name[0].Family != "Clinic" {
		t.Errorf("the app read %+v", res)
	}
	if res.FhirUser != "Patient/"+patientID || !res.Refresh || !strings.Contains(res.Scope, "patient/*.rs") {
		t.Errorf("token context: fhirUser %q, refresh %v, scope %q", res.FhirUser, res.Refresh, res.Scope)
	}
}

// createPatient posts a Patient with a system token and returns its id.
func createPatient(t *testing.T, srv *hearthtest.Server, body string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.FHIR()+"/Patient", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.Token("default", "system/*.cruds"))
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct{ ID string }
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&p) != nil {
		t.Fatalf("create Patient: %d", resp.StatusCode)
	}
	return p.ID
}
