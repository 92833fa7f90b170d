package search

import (
	"math"
	"testing"
)

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in            string
		prefix        Prefix
		value, lo, hi float64
		wantErr       bool
	}{
		{"100", PrefixEQ, 100, 99.5, 100.5, false},
		{"100.0", PrefixEQ, 100, 99.95, 100.05, false},
		{"1e2", PrefixEQ, 100, 50, 150, false},
		{"1.5e2", PrefixEQ, 150, 145, 155, false},
		{"-3.25", PrefixEQ, -3.25, -3.255, -3.245, false},
		{"gt5", PrefixGT, 5, 4.5, 5.5, false},
		{"ap100", PrefixAP, 100, 90, 110, false},
		{"sa5", "", 0, 0, 0, true},
		{"abc", "", 0, 0, 0, true},
		{"NaN", "", 0, 0, 0, true},
		{"Inf", "", 0, 0, 0, true},
		{"0x10", "", 0, 0, 0, true},
		{"", "", 0, 0, 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			v, err := parseNumber(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			n := v.(NumberValue)
			near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
			if n.Prefix != tc.prefix || !near(n.Value, tc.value) || !near(n.Low, tc.lo) || !near(n.High, tc.hi) {
				t.Errorf("got %+v", n)
			}
		})
	}
}

func TestUCUM(t *testing.T) {
	for _, tc := range []struct {
		code   string
		factor float64
		canon  string
	}{
		{"mg", 1e-3, "g"},
		{"kg", 1e3, "g"},
		{"mg/dL", 1e-3 / 1e-4, "m-3.g"},
		{"g/L", 1 / 1e-3, "m-3.g"},
		{"mmol/L", 1e-3 / 1e-3, "m-3.mol"},
		{"mm[Hg]", 133322.387415, "m-1.s-2.g"},
		{"kPa", 1e6, "m-1.s-2.g"},
		{"/min", 1.0 / 60, "s-1"},
		{"{beats}/min", 1.0 / 60, "s-1"},
		{"10*3/uL", 1e3 / 1e-9, "m-3"},
		{"kg/m2", 1e3, "m-2.g"},
		{"%", 0.01, "1"},
		{"[lb_av]", 453.59237, "g"},
		{"cm", 0.01, "m"},
		{"[in_i]", 0.0254, "m"},
		{"mL", 1e-6, "m3"},
		{"h", 3600, "s"},
		{"wk", 604800, "s"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			f, canon, ok := ucumCanonical(tc.code)
			if !ok || canon != tc.canon || math.Abs(f-tc.factor)/tc.factor > 1e-9 {
				t.Errorf("ucumCanonical(%q) = %v %q %v, want %v %q", tc.code, f, canon, ok, tc.factor, tc.canon)
			}
		})
	}
	for _, bad := range []string{"Cel", "[degF]", "foo", "", "mg/", "(mg", "m{x", "kkg"} {
		if _, _, ok := ucumCanonical(bad); ok {
			t.Errorf("ucumCanonical(%q) converts", bad)
		}
	}
}
