package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		{Workload: "W2", Concurrency: 4, Rate: 300, Ceiling: "raw-read", AuditedCeiling: "raw-read-audited"},
		{Workload: "raw-read", Concurrency: 4, Rate: 3000},
		{Workload: "raw-read-audited", Concurrency: 4, Rate: 600},
		{Workload: "raw-read-audited", Concurrency: 1, Rate: 900},
	}
	ApplyCeilings(rs)
	for i, want := range []float64{0.25, 0.25, 0, 0, 0, 0, 0, 0.1, 0, 0, 0} {
		if rs[i].Ratio != want {
			t.Errorf("%s c=%d: ratio %v, want %v", rs[i].Workload, rs[i].Concurrency, rs[i].Ratio, want)
		}
	}
	for i, r := range rs {
		if want := map[string]float64{"W2": 0.5}[r.Workload]; r.AuditedRatio != want {
			t.Errorf("result %d %s c=%d: audited ratio %v, want %v", i, r.Workload, r.Concurrency, r.AuditedRatio, want)
		}
	}
}

// TestCompareInterleaves: each level of a workload is followed by the same
// level of its ceiling; unpaired ceilings run at the end; results come
// grouped by workload.
func TestCompareInterleaves(t *testing.T) {
	var ran []string
	wl := func(name, ceiling string, setupErr error) Workload {
		ceiling, audited, _ := strings.Cut(ceiling, "+")
		return Workload{Name: name, Ceiling: ceiling, AuditedCeiling: audited,
			Setup: func(context.Context) error { return setupErr },
			NewWorker: func(ctx context.Context, i, n int) (Op, error) {
				if i == 0 {
					ran = append(ran, fmt.Sprintf("%s@%d", name, n))
				}
				return func(context.Context) (int, error) { return 1, nil }, nil
			}}
	}
	s := Settings{Target: "hearth", Duration: 5 * time.Millisecond, Concurrency: []int{1, 2}}
	cs := s
	cs.Target = "raw"
	results := Compare(context.Background(),
		[]Workload{wl("A", "rc+ra", nil), wl("B", "rd", &UnsupportedError{Status: 501, What: "search"})}, s,
		[]Workload{wl("rc", "", nil), wl("rd", "", nil), wl("ra", "", nil)}, cs)
	if got, want := strings.Join(ran, " "), "A@1 rc@1 ra@1 A@2 rc@2 ra@2 rd@1 rd@2"; got != want {
		t.Errorf("ran %s, want %s", got, want)
	}
	var order []string
	for _, r := range results {
		order = append(order, fmt.Sprintf("%s@%d%s", r.Workload, r.Concurrency, r.Unsupported))
	}
	if got, want := strings.Join(order, " "), "A@1 A@2 rc@1 rc@2 ra@1 ra@2 B@0unsupported (501) rd@1 rd@2"; got != want {
		t.Errorf("results %s, want %s", got, want)
	}
}

// TestSyntheaBundles: the raw import ceiling gets W5's Bundles as their
// entries' fullUrls, types and resources, in order.
func TestSyntheaBundles(t *testing.T) {
	bundles, err := SyntheaBundles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	if len(bundles) != 1 || len(bundles[0]) != 2 {
		t.Fatalf("got %d bundles, want one of 2 entries", len(bundles))
	}
	for i, want := range []string{"Patient", "Observation"} {
		e := bundles[0][i]
		if e.Type != want || !strings.HasPrefix(e.FullURL, "urn:uuid:") || !strings.Contains(string(e.Resource), `"resourceType":"`+want+`"`) {
			t.Errorf("entry %d: %s %s %.40s, want a %s", i, e.Type, e.FullURL, e.Resource, want)
		}
	}
	if _, err := SyntheaBundles(t.TempDir()); err == nil {
		t.Error("an empty directory gave no error")
	}
}

// TestLoadBundlesGzip: gzip-compressed Bundles (the repository's
// testdata/synthea) load as their plain files do, under the plain name,
// shared bundles first.
func TestLoadBundlesGzip(t *testing.T) {
	plain, err := loadBundles("testdata")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"tiny-transaction.json.gz", "practitionerInformation1.json.gz"} {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(plain[0].body); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.json.gz"), []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadBundles(dir); err == nil {
		t.Error("a broken .gz gave no error")
	}
	if err := os.Remove(filepath.Join(dir, "broken.json.gz")); err != nil {
		t.Fatal(err)
	}
	zipped, err := loadBundles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(zipped) != 2 || zipped[0].name != "practitionerInformation1.json" || zipped[1].name != "tiny-transaction.json" {
		t.Fatalf("loaded %d bundles, first %q", len(zipped), zipped[0].name)
	}
	for _, b := range zipped {
		if !bytes.Equal(b.body, plain[0].body) || b.entries != plain[0].entries {
			t.Errorf("%s: %d bytes, %d entries; the plain file has %d, %d", b.name, len(b.body), b.entries, len(plain[0].body), plain[0].entries)
		}
	}
}
