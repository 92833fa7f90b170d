package loadgen

import (
	"math/bits"
	"time"
)

// Histogram records latencies in log-linear buckets, the HDR histogram
// layout: values below 128 ns are exact, and every power-of-two range above
// is split into 64 buckets, so a percentile is off by at most 1/64 (1.6 %)
// whatever the spread. Memory is fixed (a few KiB) however long the run.
// A Histogram is not safe for concurrent use: each worker keeps its own and
// they are merged at the end.
type Histogram struct {
	counts [histBuckets]uint64
	total  uint64
	max    int64
}

const (
	histSub     = 64 // buckets per power of two
	histShifts  = 40 // 2^47 ns ≈ 39 h is the largest value kept apart
	histBuckets = 2*histSub + histShifts*histSub
)

// bucket maps a value in nanoseconds to its bucket index.
func bucket(v int64) int {
	if v < 2*histSub {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - 7 // keep the top 7 bits: 64..127
	if shift > histShifts {
		return histBuckets - 1
	}
	sub := int(v >> shift)
	return 2*histSub + (shift-1)*histSub + (sub - histSub)
}

// bucketHigh is the largest value that falls in bucket i.
func bucketHigh(i int) int64 {
	if i < 2*histSub {
		return int64(i)
	}
	shift := (i-2*histSub)/histSub + 1
	sub := int64((i-2*histSub)%histSub + histSub)
	return (sub+1)<<shift - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucket(v)]++
	h.total++
	h.max = max(h.max, v)
}

// Merge adds the samples of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// Count is the number of samples recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest sample recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the upper bound of the bucket holding the q-th sample
// (0 < q ≤ 1), never more than the largest sample; 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total) + 0.5)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(bucketHigh(i), h.max))
		}
	}
	return time.Duration(h.max)
}
