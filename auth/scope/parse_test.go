package scope

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Set
		fails bool
	}{
		{name: "empty", in: "", want: Set{}},
		{name: "v1 read", in: "patient/Observation.read", want: Set{Resource: []Scope{
			{Context: "patient", Type: "Observation", Perms: Read | Search, Raw: "patient/Observation.read"}}}},
		{name: "v1 write", in: "user/*.write", want: Set{Resource: []Scope{
			{Context: "user", Type: "*", Perms: Create | Update | Delete, Raw: "user/*.write"}}}},
		{name: "v1 star", in: "system/*.*", want: Set{Resource: []Scope{
			{Context: "system", Type: "*", Perms: All, Raw: "system/*.*"}}}},
		{name: "v2 all letters", in: "system/Patient.cruds", want: Set{Resource: []Scope{
			{Context: "system", Type: "Patient", Perms: All, Raw: "system/Patient.cruds"}}}},
		{name: "v2 subset", in: "patient/Condition.rs", want: Set{Resource: []Scope{
			{Context: "patient", Type: "Condition", Perms: Read | Search, Raw: "patient/Condition.rs"}}}},
		{name: "v2 gaps", in: "user/Communication.cud", want: Set{Resource: []Scope{
			{Context: "user", Type: "Communication", Perms: Create | Update | Delete, Raw: "user/Communication.cud"}}}},
		{name: "v2 granular", in: "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
			want: Set{Resource: []Scope{{Context: "patient", Type: "Observation", Perms: Read | Search,
				Params: url.Values{"category": {"http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}},
				Raw:    "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"}}}},
		{name: "others", in: "openid fhirUser launch launch/patient offline_access online_access",
			want: Set{Other: []string{"openid", "fhirUser", "launch", "launch/patient", "offline_access", "online_access"}}},
		{name: "mixed, extra spaces and duplicates", in: " openid  system/*.rs openid system/*.rs ",
			want: Set{Resource: []Scope{{Context: "system", Type: "*", Perms: Read | Search, Raw: "system/*.rs"}},
				Other: []string{"openid"}}},
		{name: "unknown prefix is other", in: "foo/Bar.baz", want: Set{Other: []string{"foo/Bar.baz"}}},
		{name: "no perms", in: "patient/Observation", fails: true},
		{name: "empty perms", in: "patient/Observation.", fails: true},
		{name: "letters out of order", in: "patient/Observation.sr", fails: true},
		{name: "letter twice", in: "patient/Observation.rrs", fails: true},
		{name: "unknown letter", in: "patient/Observation.rx", fails: true},
		{name: "v1 word misspelt", in: "patient/Observation.reed", fails: true},
		{name: "lower-case type", in: "patient/observation.read", fails: true},
		{name: "empty type", in: "system/.read", fails: true},
		{name: "params on v1", in: "patient/Observation.read?category=x", fails: true},
		{name: "empty params", in: "patient/Observation.rs?", fails: true},
		{name: "bad param encoding", in: "patient/Observation.rs?category=%zz", fails: true},
		{name: "tab separated", in: "openid\tfhirUser", fails: true},
		{name: "quote", in: `open"id`, fails: true},
		{name: "non-ASCII", in: "patient/Observatión.read", fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.fails {
				if !fhir.IsKind(err, fhir.KindInvalid) {
					t.Fatalf("Parse(%q) error = %v, want KindInvalid", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n %#v\nwant\n %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSetString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"openid system/*.rs", "system/*.rs openid"},
		{"patient/Observation.read launch/patient", "patient/Observation.read launch/patient"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	built := Scope{Context: "system", Type: "Patient", Perms: Read | Search}
	if got := built.String(); got != "system/Patient.rs" {
		t.Errorf("built scope String() = %q", got)
	}
}

func TestAllows(t *testing.T) {
	set := mustParse(t, "patient/Observation.read user/*.c system/Patient.cruds patient/Condition.rs?category=problem-list-item openid")
	tests := []struct {
		typ  string
		perm Perm
		want bool
	}{
		{"Observation", Read, true},
		{"Observation", Search, true},
		{"Observation", Read | Search, true},
		{"Observation", Update, false},
		{"Observation", Create, true}, // via user/*.c
		{"Encounter", Create, true},
		{"Encounter", Read, false},
		{"Patient", All, true},
		{"Patient", Read | Create, true},
		{"Condition", Read, false}, // only a granular scope: not a blanket grant
		{"Observation", Read | Update, false},
		{"Observation", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"."+tt.perm.String(), func(t *testing.T) {
			if got := set.Allows(tt.typ, tt.perm); got != tt.want {
				t.Errorf("Allows(%q, %s) = %v, want %v", tt.typ, tt.perm, got, tt.want)
			}
		})
	}
}

func TestPermString(t *testing.T) {
	tests := []struct {
		p    Perm
		want string
	}{{0, ""}, {All, "cruds"}, {Read | Search, "rs"}, {Delete | Create, "cd"}}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("Perm(%d).String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func mustParse(t testing.TB, s string) Set {
	t.Helper()
	set, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return set
}
