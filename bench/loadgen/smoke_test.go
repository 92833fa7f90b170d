package loadgen_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// TestWorkloadsSmoke runs every workload for a fraction of a second
// against an in-process Hearth on both backends, so the load generator
// cannot rot. It checks that runs complete with sane counts, never timings.
func TestWorkloadsSmoke(t *testing.T) {
	for _, backend := range hearthtest.Backends {
		t.Run(backend, func(t *testing.T) {
			srv := hearthtest.Start(t, hearthtest.OpenStore(t, backend))
			ctx := context.Background()
			// Client credentials, as the command line uses them.
			if err := srv.Store.EnsureTenant(ctx, store.Tenant{ID: "default", Name: "default", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			id, secret, err := auth.RegisterClient(ctx, srv.Store, "default", "bench", "system/*.cruds")
			if err != nil {
				t.Fatal(err)
			}
			tokens := &loadgen.ClientCredentials{TokenURL: srv.URL + "/oauth2/token", ClientID: id, ClientSecret: secret,
				Scope: "system/*.cruds"}
			c := loadgen.NewClient(srv.FHIR(), tokens, 2, time.Minute)
			suite := loadgen.NewSuite(c, loadgen.Options{SeedCount: 40, ReadSet: 10, SyntheaDir: "testdata", SeedConcurrency: 2})
			ws, err := suite.Workloads(nil)
			if err != nil {
				t.Fatal(err)
			}
			results := loadgen.Run(ctx, ws, loadgen.Settings{Target: "hearth", Duration: 150 * time.Millisecond,
				Concurrency: []int{1, 2}, ServerPID: os.Getpid()})
			checkResults(t, results, []string{"W1", "W2", "W3-high", "W3-low", "W3-unique", "W4", "W5", "W6", "W7", "W8"})
		})
	}
}

// checkResults asserts that every workload ran or was reported
// unsupported, that the ones in mustRun ran, and that runs have sane numbers.
func checkResults(t *testing.T, results []loadgen.Result, mustRun []string) {
	t.Helper()
	ran := map[string]bool{}
	for _, r := range results {
		name := r.Target + " " + r.Workload
		switch {
		case r.Failed != "":
			t.Errorf("%s c=%d failed: %s", name, r.Concurrency, r.Failed)
		case r.Unsupported != "":
			// Search (W3, W4) and transactions (W5) until their issues land.
			if !strings.HasPrefix(r.Unsupported, "unsupported (") {
				t.Errorf("%s: unsupported reason %q", name, r.Unsupported)
			}
			t.Logf("%s: %s", name, r.Unsupported)
		default:
			ran[r.Workload] = true
			if r.Ops == 0 || r.Items < r.Ops || r.Rate <= 0 || r.Seconds <= 0 {
				t.Errorf("%s c=%d: ops %d items %d rate %f seconds %f", name, r.Concurrency, r.Ops, r.Items, r.Rate, r.Seconds)
			}
			if r.ErrorCount() != 0 {
				t.Errorf("%s c=%d: errors %s", name, r.Concurrency, r.ErrorSummary())
			}
			if !(r.P50ms > 0 && r.P50ms <= r.P95ms && r.P95ms <= r.P99ms && r.P99ms <= r.MaxMs) {
				t.Errorf("%s c=%d: percentiles out of order: %v %v %v %v", name, r.Concurrency, r.P50ms, r.P95ms, r.P99ms, r.MaxMs)
			}
			// VmHWM is kept lazily by the kernel and may trail a VmRSS sample a little.
			if r.Target == "hearth" && (r.PeakRSSKiB <= 0 || r.HWMKiB <= 0) {
				t.Errorf("%s c=%d: memory rss %d hwm %d", name, r.Concurrency, r.PeakRSSKiB, r.HWMKiB)
			}
		}
	}
	for _, w := range mustRun {
		if !ran[w] {
			t.Errorf("%s did not run", w)
		}
	}
}

// TestRefusesRemote: the generator never points at a host that is not
// loopback unless told to.
func TestRefusesRemote(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/fhir", true},
		{"http://localhost:8080/fhir", true},
		{"http://[::1]:8080/fhir", true},
		{"http://127.0.0.2/fhir", true},
		{"https://hapi.fhir.org/baseR4", false},
		{"http://10.0.0.5:8080/fhir", false},
		{"http://localhost.example.com/fhir", false},
		{"ftp://127.0.0.1/fhir", false},
	}
	for _, tc := range tests {
		t.Run(url.PathEscape(tc.url), func(t *testing.T) {
			if err := loadgen.CheckLoopback("base", tc.url); (err == nil) != tc.ok {
				t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tc.url, err, tc.ok)
			}
		})
	}
}
