package search

import (
	"regexp"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
)

// splitReferenceRegexp is SplitReference as it was written with a regular
// expression, kept as the oracle of FuzzSplitReference.
func splitReferenceRegexp(ref, base string) (typ, id, url string) {
	m := localRefOracle.FindStringSubmatch(ref)
	if m != nil && fhir.IsResourceType(m[2]) && (m[1] == "" || (base != "" && m[1] == base)) {
		return m[2], m[3], ""
	}
	return "", "", ref
}

var localRefOracle = regexp.MustCompile(`^(?:(.*)/)?([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?$`)

// SplitReference reads every reference as the regular expression did.
func FuzzSplitReference(f *testing.F) {
	for _, seed := range []string{
		"Patient/1", "Patient/1/_history/2", "http://h/fhir/Patient/1", "http://other/fhir/Patient/1/_history/x",
		"/Patient/1", "Patient/_history/1", "a/Patient/1/_history/2/_history/3", "Patient/1/_history/", "Patient//1",
		"urn:uuid:0e5c", "#contained", "Observation/a.b-c", "Patient/" + string(make([]byte, 65)), "x\n/Patient/1",
		"NotAType/1", "patient/1", "Patient/1/", "http://h/fhir/Patient/1/_history/_history", "Pa/1", "P/1",
	} {
		f.Add(seed, "http://h/fhir")
		f.Add(seed, "")
	}
	f.Fuzz(func(t *testing.T, ref, base string) {
		gt, gi, gu := SplitReference(ref, base)
		wt, wi, wu := splitReferenceRegexp(ref, base)
		if gt != wt || gi != wi || gu != wu {
			t.Fatalf("SplitReference(%q, %q) = %q %q %q, the regular expression gives %q %q %q", ref, base, gt, gi, gu, wt, wi, wu)
		}
	})
}
