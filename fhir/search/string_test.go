package search

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Peter", "peter"},
		{"  Ångström   Müller ", "angstrom muller"},
		{"ÉLODIE", "elodie"},
		{"Zoë", "zoe"},
		{"Ｆｕｌｌ", "full"}, // fullwidth forms fold (NFKD)
		{"Σίσυφος", "σισυφος"},
		{"李小龍", "李小龍"},
		{"o\u0301", "o"},
		{"", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if n := len([]rune(Normalize(strings.Repeat("ab ", 1000)))); n > maxStringRunes {
		t.Errorf("normalised value has %d runes, over %d", n, maxStringRunes)
	}
}

func TestPrefixUpper(t *testing.T) {
	for _, s := range []string{"pet", "peter", "pet\u00e9", "pet zzz"} {
		if !(s >= "pet" && s < PrefixUpper("pet")) {
			t.Errorf("%q not in the prefix range of pet", s)
		}
	}
	for _, s := range []string{"pes", "peu", "pe"} {
		if s >= "pet" && s < PrefixUpper("pet") {
			t.Errorf("%q in the prefix range of pet", s)
		}
	}
}
