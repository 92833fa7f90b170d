package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// TestCompare runs the command end to end against an in-process Hearth on
// PostgreSQL: client credentials with the token URL discovered from the
// CapabilityStatement, every workload for a moment, the raw ceiling, and
// the ratios in the JSON report. It checks completeness, never timings.
func TestCompare(t *testing.T) {
	ctx := context.Background()
	srv := hearthtest.Start(t, hearthtest.OpenStore(t, "postgres"))
	if err := srv.Store.EnsureTenant(ctx, store.Tenant{ID: "default", Name: "default", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	id, secret, err := auth.RegisterClient(ctx, srv.Store, "default", "bench", "system/*.cruds")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HEARTH_BENCH_CLIENT_SECRET", secret)
	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"compare", "--base-url", srv.FHIR(), "--client-id", id,
		"--database-url", pgtest.URL(t), "--duration", "100ms", "--concurrency", "1,2",
		"--seed-count", "200", "--read-set", "5", "--synthea-dir", filepath.Join("..", "..", "bench", "loadgen", "testdata"),
		"--json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("compare: %v\n%s", err, stderr.String())
	}
	var rep loadgen.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	ratios, audited := map[string]int{}, map[string]int{}
	for _, r := range rep.Results {
		if r.Failed != "" {
			t.Errorf("%s %s failed: %s", r.Target, r.Workload, r.Failed)
		}
		if r.Ratio > 0 {
			ratios[r.Workload]++
		}
		if r.AuditedRatio > 0 {
			audited[r.Workload]++
		}
	}
	for _, w := range []string{"W1", "W2", "W3-high", "W3-low", "W3-unique", "W5", "W6"} {
		if ratios[w] != 2 {
			t.Errorf("%s has a ratio at %d of 2 levels", w, ratios[w])
		}
	}
	for _, w := range []string{"W2", "W3-high", "W3-low", "W3-unique"} {
		if audited[w] != 2 {
			t.Errorf("%s has a ratio to its audited ceiling at %d of 2 levels", w, audited[w])
		}
	}
	if len(audited) != 4 {
		t.Errorf("audited ratios for %v, want W2 and W3 only", audited)
	}
	notes := strings.Join(rep.Notes, "\n")
	if !strings.Contains(notes, "QueryExecModeExec") {
		t.Errorf("notes do not say how the ceiling searched: %q", rep.Notes)
	}
	if !strings.Contains(notes, "raw-import: 1 bundles") {
		t.Errorf("notes do not describe raw-import's bundles: %q", rep.Notes)
	}
}

// TestFlags refuses what cannot or must not run.
func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // part of the error; "" for success
	}{
		{"remote base", []string{"run", "--base-url", "https://hapi.fhir.org/baseR4"}, "not loopback"},
		{"remote database", []string{"raw", "--database-url", "postgres://u@db.example.com/x"}, "not loopback"},
		{"no base", []string{"run"}, "--base-url is required"},
		{"both auth", []string{"run", "--base-url", "http://127.0.0.1:1/fhir", "--token", "x", "--client-id", "y"}, "not both"},
		{"no database", []string{"compare", "--base-url", "http://127.0.0.1:1/fhir"}, "--database-url or --sqlite"},
		{"bad level", []string{"run", "--base-url", "http://127.0.0.1:1/fhir", "--concurrency", "1,0"}, "--concurrency"},
		{"unknown workload", []string{"run", "--base-url", "http://127.0.0.1:1/fhir", "--workloads", "W9"}, "unknown workload"},
		{"unknown command", []string{"bench"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			err := run(ctx, tc.args, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
