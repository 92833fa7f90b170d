package clienttest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// npmInstall installs the pinned client libraries of js/package-lock.json.
func npmInstall(t *testing.T) string { return npmCI(t, "js", "fhir-kit-client") }

// npmCI installs the pinned packages of sub/package-lock.json unless probe
// (a package) is there already, and returns sub's absolute path.
func npmCI(t *testing.T, sub, probe string) string {
	t.Helper()
	dir, err := filepath.Abs(sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", probe)); err == nil {
		return dir
	}
	cmd := exec.Command("npm", "ci", "--legacy-peer-deps", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return dir
}

// TestFhirKitTransaction: fhir-kit-client posts a transaction to `{base}/`
// (with the trailing slash) and Hearth answers with a transaction-response
// whose references were resolved.
func TestFhirKitTransaction(t *testing.T) {
	dir := npmInstall(t)
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) {
			srv := hearthtest.Start(t, hearthtest.OpenStore(t, backend))
			token := srv.Token("default", "system/*.cruds")
			cmd := exec.Command("node", filepath.Join(dir, "fhirkit-transaction.mjs"), srv.FHIR(), token)
			out, err := cmd.Output()
			if err != nil {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("fhir-kit-client: %v\n%s", err, stderr)
			}
			var resp struct {
				Type  string `json:"type"`
				Entry []struct {
					Response struct {
						Status   string `json:"status"`
						Location string `json:"location"`
					} `json:"response"`
					Resource map[string]any `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(out, &resp); err != nil || resp.Type != "transaction-response" || len(resp.Entry) != 2 {
				t.Fatalf("response %s (%v)", out, err)
			}
			for _, e := range resp.Entry {
				if e.Response.Status != "201 Created" {
					t.Fatalf("entry status %q", e.Response.Status)
				}
			}
			subject := resp.Entry[1].Resource["subject"].(map[string]any)["reference"].(string)
			if !strings.HasPrefix(subject, "Patient/") || !strings.Contains(resp.Entry[0].Response.Location, subject) {
				t.Fatalf("subject %q not resolved to the new Patient (%s)", subject, resp.Entry[0].Response.Location)
			}
		})
	}
}
