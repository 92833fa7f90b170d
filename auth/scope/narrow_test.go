package scope

import "testing"

func TestNarrow(t *testing.T) {
	tests := []struct {
		name, requested, allowed, want string
	}{
		{"identical", "system/*.rs", "system/*.rs", "system/*.rs"},
		{"subset kept as written", "system/Patient.read", "system/*.*", "system/Patient.read"},
		{"perms cut", "system/Patient.cruds", "system/*.rs", "system/Patient.rs"},
		{"v1 cut to v2 letters", "system/Observation.*", "system/Observation.read", "system/Observation.rs"},
		{"union of allowed", "system/Patient.cruds", "system/Patient.r system/*.s", "system/Patient.rs"},
		{"context must match", "patient/*.read", "system/*.read", ""},
		{"type must match", "system/Patient.read", "system/Observation.read", ""},
		{"wildcard not expanded", "system/*.read", "system/Patient.read", ""},
		{"empty dropped, rest kept", "system/Patient.c system/Patient.r", "system/*.rs", "system/Patient.r"},
		{"others filtered", "openid fhirUser launch", "openid launch offline_access", "openid launch"},
		{"granular request under blanket allow", "patient/Observation.rs?category=laboratory",
			"patient/Observation.cruds", "patient/Observation.rs?category=laboratory"},
		{"granular request cut keeps raw query", "patient/Observation.crs?category=a|b",
			"patient/*.rs", "patient/Observation.rs?category=a|b"},
		{"granular allow covers the same params", "patient/Observation.rs?category=laboratory",
			"patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory"},
		{"granular allow does not cover blanket request", "patient/Observation.rs",
			"patient/Observation.rs?category=laboratory", ""},
		{"granular allow does not cover other params", "patient/Observation.rs?category=vital-signs",
			"patient/Observation.rs?category=laboratory", ""},
		{"nothing requested", "", "system/*.*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Narrow(mustParse(t, tt.requested), mustParse(t, tt.allowed))
			if got.String() != tt.want {
				t.Errorf("Narrow(%q, %q) = %q, want %q", tt.requested, tt.allowed, got.String(), tt.want)
			}
			if got.Empty() != (tt.want == "") {
				t.Errorf("Empty() = %v for %q", got.Empty(), got.String())
			}
			// What Narrow grants must parse back to the same thing.
			if again := mustParse(t, got.String()); again.String() != got.String() {
				t.Errorf("narrowed scope does not round-trip: %q → %q", got.String(), again.String())
			}
		})
	}
}
