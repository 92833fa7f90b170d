package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"time"
)

// Op performs one operation and returns how many resources it carried.
// A *StatusError counts as a failure under its HTTP status; other errors
// count under a class such as "transport" or "db".
type Op func(ctx context.Context) (items int, err error)

// Workload is one measured scenario. Setup runs once, then each
// concurrency level gets fresh workers from NewWorker, built before the
// clock starts so that their own preparation is not measured.
type Workload struct {
	Name    string // "W1", "W3-high", "raw-create"
	Title   string // "create Communication"
	Unit    string // what the rate counts; "req/s" when empty
	Ceiling string // the raw workload this is compared with, if any
	// AuditedCeiling is a second raw workload for reads and searches: the
	// ceiling's work plus the durable append of an audit row in the same
	// round trip and commit, the least a server that audits every access
	// before it answers must do. Writes' ceilings append one already.
	AuditedCeiling string

	// Setup probes the server and seeds data; an *UnsupportedError makes
	// the workload "unsupported" instead of failed. May be nil.
	Setup func(ctx context.Context) error
	// NewWorker returns the operation worker i (of n) repeats.
	NewWorker func(ctx context.Context, i, n int) (Op, error)
}

// Settings bound and describe a run.
type Settings struct {
	Target      string        // reported as Result.Target
	Duration    time.Duration // per workload and concurrency level
	Concurrency []int         // levels, each measured in turn
	// MaxOps caps the operations of one worker at one level, a second
	// bound beside Duration (0: 10 million).
	MaxOps uint64
	// ServerPID, when not 0, is sampled for VmRSS/VmHWM during each level.
	ServerPID int
	// Progress receives one line per finished measurement (may be nil).
	Progress io.Writer
}

// Run measures each workload at each concurrency level, in order.
// A workload whose setup fails is reported with Failed or Unsupported set
// and the run goes on with the next one. Run stops early when ctx ends.
func Run(ctx context.Context, ws []Workload, s Settings) []Result {
	var out []Result
	for _, w := range ws {
		if ctx.Err() != nil {
			break
		}
		base, ok := setup(ctx, w, s)
		if !ok {
			out = append(out, base)
			continue
		}
		for _, c := range s.Concurrency {
			if ctx.Err() != nil {
				break
			}
			r := measure(ctx, w, c, s, base)
			progress(s.Progress, r)
			out = append(out, r)
		}
	}
	return out
}

// Compare measures each workload of ws and, right after it at each level,
// its ceilings (from ceilings, by Workload.Ceiling and AuditedCeiling) at
// the same level, so that all see the same machine: on a shared machine
// the background load drifts within minutes, and a ratio of figures taken minutes apart would
// measure the drift. Ceilings nobody refers to run at the end. Results come
// grouped: a workload's levels, then each ceiling's.
func Compare(ctx context.Context, ws []Workload, s Settings, ceilings []Workload, cs Settings) []Result {
	byName := map[string]int{}
	for i, c := range ceilings {
		byName[c.Name] = i
	}
	used := make([]bool, len(ceilings))
	var out, broken []Result // broken: ceilings whose setup failed
	for _, w := range ws {
		if ctx.Err() != nil {
			break
		}
		base, ok := setup(ctx, w, s)
		if !ok {
			out = append(out, base)
			continue
		}
		// The workload's ceilings that are here and not measured yet.
		type pairedCeiling struct {
			w       Workload
			base    Result
			results []Result
		}
		var pairs []*pairedCeiling
		for _, name := range []string{w.Ceiling, w.AuditedCeiling} {
			i, ok := byName[name]
			if !ok || used[i] {
				continue
			}
			used[i] = true
			cbase, ok := setup(ctx, ceilings[i], cs)
			if !ok {
				broken = append(broken, cbase)
				continue
			}
			pairs = append(pairs, &pairedCeiling{w: ceilings[i], base: cbase})
		}
		var mine []Result
		for _, c := range s.Concurrency {
			if ctx.Err() != nil {
				break
			}
			r := measure(ctx, w, c, s, base)
			progress(s.Progress, r)
			mine = append(mine, r)
			for _, p := range pairs {
				r := measure(ctx, p.w, c, cs, p.base)
				progress(cs.Progress, r)
				p.results = append(p.results, r)
			}
		}
		out = append(out, mine...)
		for _, p := range pairs {
			out = append(out, p.results...)
		}
	}
	var rest []Workload
	for i, c := range ceilings {
		if !used[i] {
			rest = append(rest, c)
		}
	}
	return append(append(out, broken...), Run(ctx, rest, cs)...)
}

// setup runs w's Setup and returns the Result every level starts from;
// false when the workload cannot run, the Result then saying why.
func setup(ctx context.Context, w Workload, s Settings) (Result, bool) {
	base := Result{Target: s.Target, Workload: w.Name, Title: w.Title, Unit: w.Unit, Ceiling: w.Ceiling,
		AuditedCeiling: w.AuditedCeiling}
	if base.Unit == "" {
		base.Unit = "req/s"
	}
	if w.Setup == nil {
		return base, true
	}
	if err := w.Setup(ctx); err != nil {
		if reason, ok := unsupportedReason(err); ok {
			base.Unsupported = reason
		} else {
			base.Failed = err.Error()
		}
		progress(s.Progress, base)
		return base, false
	}
	return base, true
}

// workerStats is what one worker saw; merged after the level ends.
type workerStats struct {
	hist   Histogram
	ops    uint64
	items  uint64
	errors map[string]uint64
	sample string // the first error's text, for the progress line
}

// measure runs one workload at one concurrency level for s.Duration.
func measure(ctx context.Context, w Workload, c int, s Settings, base Result) Result {
	r := base
	r.Concurrency = c
	ops := make([]Op, c)
	for i := range ops {
		op, err := w.NewWorker(ctx, i, c)
		if err != nil {
			if reason, ok := unsupportedReason(err); ok {
				r.Unsupported = reason
			} else {
				r.Failed = fmt.Sprintf("worker %d: %v", i, err)
			}
			return r
		}
		ops[i] = op
	}
	maxOps := s.MaxOps
	if maxOps == 0 {
		maxOps = 10_000_000
	}
	r.Load1 = loadAverage()
	memCtx, stopMem := context.WithCancel(ctx)
	mem := sampleMemory(memCtx, s.ServerPID)
	stats := make([]workerStats, c)
	cpuBefore := readCPU(s.ServerPID)
	start := time.Now()
	deadline := start.Add(s.Duration)
	var wg sync.WaitGroup
	for i := range ops {
		wg.Go(func() { stats[i] = work(ctx, ops[i], deadline, maxOps) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpuAfter := readCPU(s.ServerPID)
	stopMem()
	m := <-mem

	var h Histogram
	var sample string
	for _, st := range stats {
		h.Merge(&st.hist)
		r.Ops += st.ops
		r.Items += st.items
		for k, v := range st.errors {
			if r.Errors == nil {
				r.Errors = map[string]uint64{}
			}
			r.Errors[k] += v
		}
		if sample == "" {
			sample = st.sample
		}
	}
	r.Seconds = elapsed.Seconds()
	r.Rate = float64(r.Items) / r.Seconds
	r.P50ms, r.P95ms, r.P99ms = ms(h.Quantile(0.50)), ms(h.Quantile(0.95)), ms(h.Quantile(0.99))
	r.MaxMs = ms(h.Max())
	r.PeakRSSKiB, r.HWMKiB = m.RSS, m.HWM
	r.ServerCPUus, r.MachineCPUus = perItem(cpuBefore, cpuAfter, r.Items)
	if sample != "" && s.Progress != nil {
		fmt.Fprintf(s.Progress, "  %s c=%d first error: %s\n", w.Name, c, sample)
	}
	return r
}

// work repeats op until the deadline, maxOps or the end of ctx. An
// operation in flight at the deadline finishes and counts: cancelling it
// would turn the clock into errors.
func work(ctx context.Context, op Op, deadline time.Time, maxOps uint64) workerStats {
	st := workerStats{}
	for n := uint64(0); n < maxOps && ctx.Err() == nil; n++ {
		t0 := time.Now()
		if !t0.Before(deadline) {
			break
		}
		items, err := op(ctx)
		d := time.Since(t0)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if st.errors == nil {
				st.errors = map[string]uint64{}
			}
			st.errors[errorClass(err)]++
			if st.sample == "" {
				st.sample = err.Error()
			}
			continue
		}
		st.hist.Record(d)
		st.ops++
		st.items += uint64(items)
	}
	return st
}

// errorClass names the bucket an error is counted in.
func errorClass(err error) string {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return strconv.Itoa(se.Status)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	var c interface{ Class() string }
	if errors.As(err, &c) {
		return c.Class()
	}
	return "error"
}

// progress prints a one-line summary of r.
func progress(w io.Writer, r Result) {
	if w == nil {
		return
	}
	switch {
	case r.Unsupported != "":
		fmt.Fprintf(w, "%s %s: %s\n", r.Target, r.Workload, r.Unsupported)
	case r.Failed != "":
		fmt.Fprintf(w, "%s %s c=%d: failed: %s\n", r.Target, r.Workload, r.Concurrency, r.Failed)
	default:
		fmt.Fprintf(w, "%s %s c=%d: %.0f %s p50 %.2fms p99 %.2fms errors %d\n",
			r.Target, r.Workload, r.Concurrency, finite(r.Rate), r.Unit, r.P50ms, r.P99ms, r.ErrorCount())
	}
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
