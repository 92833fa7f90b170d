package loadgen

import (
	"math/rand/v2"
	"testing"
)

// TestSeedStatuses: the seeded set has the documented selectivities.
func TestSeedStatuses(t *testing.T) {
	for _, n := range []int{1, 10, 1000, 100_000} {
		r := rand.New(rand.NewPCG(1, 1))
		got := map[string]int{}
		for _, s := range SeedStatuses(n, r.IntN) {
			got[s]++
		}
		want := map[string]int{"entered-in-error": 1, "on-hold": max(n/1000, 1), "completed": n / 2}
		if n == 1 {
			want = map[string]int{"entered-in-error": 1}
		}
		for status, w := range want {
			if got[status] != min(w, n) {
				t.Errorf("n=%d: %d × %s, want %d", n, got[status], status, w)
			}
		}
		total := 0
		for _, c := range got {
			total += c
		}
		if total != n {
			t.Errorf("n=%d: %d statuses", n, total)
		}
	}
}

// TestParseLocation reads the id and version of the Locations servers send.
func TestParseLocation(t *testing.T) {
	tests := []struct {
		loc  string
		want Created
		ok   bool
	}{
		{"http://127.0.0.1:8080/fhir/Communication/abc/_history/1", Created{"Communication", "abc", "1"}, true},
		{"Patient/123/_history/7", Created{"Patient", "123", "7"}, true},
		{"http://localhost:8080/fhir/Patient/9", Created{"Patient", "9", ""}, true},
		{"Observation/x/_history/2?foo=bar", Created{"Observation", "x", "2"}, true},
		{"", Created{}, false},
	}
	for _, tc := range tests {
		got, ok := parseLocation(tc.loc)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseLocation(%q) = %+v %v, want %+v %v", tc.loc, got, ok, tc.want, tc.ok)
		}
	}
}

// TestApplyCeilings pairs results with their ceilings by concurrency.
func TestApplyCeilings(t *testing.T) {
	rs := []Result{
		{Workload: "W1", Concurrency: 1, Rate: 50, Ceiling: "raw-create"},
		{Workload: "W1", Concurrency: 4, Rate: 100, Ceiling: "raw-create"},
		{Workload: "W3-high", Unsupported: "unsupported (501)", Ceiling: "raw-search-high"},
		{Workload: "W7", Concurrency: 1, Rate: 10},
		{Workload: "raw-create", Concurrency: 1, Rate: 200},
		{Workload: "raw-create", Concurrency: 4, Rate: 400},
		{Workload: "raw-search-high", Concurrency: 1, Rate: 400},
	}
	ApplyCeilings(rs)
	for i, want := range []float64{0.25, 0.25, 0, 0, 0, 0, 0} {
		if rs[i].Ratio != want {
			t.Errorf("%s c=%d: ratio %v, want %v", rs[i].Workload, rs[i].Concurrency, rs[i].Ratio, want)
		}
	}
}
