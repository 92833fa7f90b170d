package policy

import (
	"context"
	"sort"
	"testing"
	"time"
)

// BenchmarkDecide measures one decision per iteration and reports the
// median and 99th percentile latency beside the mean (ns/op): "eval" runs
// the policy every time, "memo" repeats an input the memo remembers. Run
// with -benchmem for allocations.
func BenchmarkDecide(b *testing.B) {
	c := newEngine(b).current.Load()
	cases := []struct {
		name string
		in   Input
	}{
		{"client-read", Input{Principal: client, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m2"}, Resource: others}},
		{"practitioner-read", Input{Principal: practitioner, Interaction: Interaction{Type: "read", ResourceType: "Communication", ID: "m1"}, Resource: toP1}},
		{"practitioner-search", Input{Principal: practitioner, Interaction: Interaction{Type: "search-type", ResourceType: "Communication"}}},
		{"patient-search", Input{Principal: Principal{Tenant: "t1", Subject: "u9", Kind: KindUser, Roles: []string{"patient"}, FhirUser: "Patient/pat1"},
			Interaction: Interaction{Type: "search-type", ResourceType: "Observation"}}},
	}
	for _, how := range []struct {
		name   string
		decide func(context.Context, Input) (Decision, error)
	}{{"eval", c.evaluate}, {"memo", c.decide}} {
		for _, tc := range cases {
			benchDecide(b, how.name+"/"+tc.name, tc.in, how.decide)
		}
	}
}

func benchDecide(b *testing.B, name string, in Input, decide func(context.Context, Input) (Decision, error)) {
	{
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			samples := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				start := time.Now()
				if _, err := decide(ctx, in); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
