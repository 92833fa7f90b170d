package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestHistogramQuantiles compares the histogram's percentiles with those
// of the sorted samples: within one bucket (1/64) and never above the max.
func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name string
		gen  func(r *rand.Rand) time.Duration
	}{
		{"constant", func(*rand.Rand) time.Duration { return 1234567 }},
		{"uniform µs–ms", func(r *rand.Rand) time.Duration { return time.Duration(1000 + r.Int64N(10_000_000)) }},
		{"exponential", func(r *rand.Rand) time.Duration { return time.Duration(r.ExpFloat64() * 2e6) }},
		{"tiny", func(r *rand.Rand) time.Duration { return time.Duration(r.Int64N(200)) }},
		{"long tail", func(r *rand.Rand) time.Duration {
			if r.IntN(100) == 0 {
				return time.Duration(r.Int64N(int64(10 * time.Second)))
			}
			return time.Duration(r.Int64N(int64(time.Millisecond)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var h Histogram
			samples := make([]time.Duration, 20_000)
			for i := range samples {
				samples[i] = tc.gen(r)
				h.Record(samples[i])
			}
			slices.Sort(samples)
			if h.Count() != uint64(len(samples)) || h.Max() != samples[len(samples)-1] {
				t.Fatalf("count %d max %v, want %d %v", h.Count(), h.Max(), len(samples), samples[len(samples)-1])
			}
			for _, q := range []float64{0.5, 0.95, 0.99, 0.999, 1} {
				want := samples[max(int(q*float64(len(samples))+0.5)-1, 0)]
				got := h.Quantile(q)
				if got < want || float64(got-want) > float64(want)/64+1 || got > h.Max() {
					t.Errorf("q%.3f = %v, sorted samples say %v", q, got, want)
				}
			}
		})
	}
}

// TestHistogramMerge: merging per-worker histograms equals recording all.
func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i * i * 97)
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a != all {
		t.Error("merged histogram differs from one that saw every sample")
	}
}

// TestBuckets: every value lands in a bucket whose upper bound is at least
// the value and within 1/64 of it.
func TestBuckets(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 123456789, 1 << 40, 1<<46 + 12345} {
		i := bucket(v)
		if hi := bucketHigh(i); hi < v || float64(hi-v) > float64(v)/64+1 || (i > 0 && bucketHigh(i-1) >= v) {
			t.Errorf("value %d: bucket %d spans ..%d (previous ..%d)", v, i, hi, bucketHigh(i-1))
		}
	}
}
