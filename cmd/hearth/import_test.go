package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// TestImport runs `hearth import` on Synthea Bundles and NDJSON against both
// stores: good files import with a summary and exit 0; a bad line or file is
// reported and makes the exit status non-zero while the rest still lands.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	var bundles []string
	for _, b := range hearthtest.SyntheaBundles(t)[:3] {
		p := filepath.Join(dir, strings.TrimSuffix(b.Name, ".gz"))
		if err := os.WriteFile(p, b.JSON, 0o600); err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, p)
	}
	good := filepath.Join(dir, "good.ndjson")
	os.WriteFile(good, []byte(`{"resourceType":"Practitioner","id":"pr-1"}
{"resourceType":"Practitioner","id":"pr-2","name":[{"family":"Okafor"}]}

{"resourceType":"Organization","name":"Clinic"}
`), 0o600)
	bad := filepath.Join(dir, "bad.ndjson")
	os.WriteFile(bad, []byte(`{"resourceType":"Practitioner","id":"pr-3"}
{"resourceType":"Practitioner","id":"pr-4","gender":"robot"}
`), 0o600)
	notBundle := filepath.Join(dir, "patient.json")
	os.WriteFile(notBundle, []byte(`{"resourceType":"Patient"}`), 0o600)

	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			storage := storageArgs(t, backend)
			out, err := exec.Command(binary, append(append([]string{"import"}, storage...), append(bundles, good)...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("import of good files failed: %v\n%s", err, out)
			}
			s := string(out)
			for _, want := range []string{"0 failures", "Practitioner", "Patient", "entries", "resources/s"} {
				if !strings.Contains(s, want) {
					t.Fatalf("output lacks %q:\n%s", want, s)
				}
			}
			out, err = exec.Command(binary, append(append([]string{"import"}, storage...), bad, notBundle)...).CombinedOutput()
			if err == nil {
				t.Fatalf("import with bad input exited 0:\n%s", out)
			}
			s = string(out)
			if !strings.Contains(s, "line 2") || !strings.Contains(s, "patient.json") || !strings.Contains(s, "2 failures") {
				t.Fatalf("failures not reported:\n%s", s)
			}
			// The good line of the bad file still landed: importing it again updates it.
			out, _ = exec.Command(binary, append(append([]string{"import"}, storage...), good)...).CombinedOutput()
			if !strings.Contains(string(out), "created 1 resources, updated 2") {
				t.Fatalf("re-import of ids should update them:\n%s", out)
			}
		})
	}
}
