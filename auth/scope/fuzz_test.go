package scope

import (
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
)

// FuzzParse checks that Parse never panics, fails only with KindInvalid, and
// that whatever it accepts renders to a string that parses to the same set.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "openid fhirUser", "patient/Observation.read", "system/*.*", "user/Patient.cruds",
		"patient/Observation.rs?category=http://loinc.org|1234", "launch/patient offline_access",
		"patient/Observation.sr", "system/.read", "patient/x.rs?%zz", "a  b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		set, err := Parse(in)
		if err != nil {
			if !fhir.IsKind(err, fhir.KindInvalid) {
				t.Fatalf("Parse(%q) error %v is not KindInvalid", in, err)
			}
			return
		}
		for _, sc := range set.Resource {
			if sc.Perms == 0 || sc.Perms&^All != 0 {
				t.Fatalf("Parse(%q) gave perms %08b", in, sc.Perms)
			}
			if !isContext(sc.Context) {
				t.Fatalf("Parse(%q) gave context %q", in, sc.Context)
			}
		}
		again, err := Parse(set.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", set.String(), err)
		}
		if again.String() != set.String() {
			t.Fatalf("round trip %q → %q", set.String(), again.String())
		}
		if n := Narrow(set, set); n.String() != set.String() {
			t.Fatalf("Narrow(s, s) = %q, want %q", n.String(), set.String())
		}
	})
}
