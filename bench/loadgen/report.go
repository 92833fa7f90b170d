package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one invocation measured, as --json prints it.
type Report struct {
	Date        time.Time `json:"date"`
	Commit      string    `json:"commit,omitempty"`
	Machine     Machine   `json:"machine"`
	Duration    string    `json:"duration"`
	Concurrency []int     `json:"concurrency"`
	SeedCount   int       `json:"seed_count,omitempty"`
	Notes       []string  `json:"notes,omitempty"`
	Results     []Result  `json:"results"`
}

// Machine describes where the numbers come from.
type Machine struct {
	CPU    string `json:"cpu"`
	CPUs   int    `json:"cpus"`
	MemMiB int64  `json:"mem_mib,omitempty"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	Go     string `json:"go"`
}

// ThisMachine describes the machine the generator runs on (which, for
// loopback targets, is the server's too).
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version()}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n int64
		fmt.Sscan(kb, &n)
		m.MemMiB = n / 1024
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ApplyCeilings sets Ratio and AuditedRatio on every result whose
// ceilings were measured at the same concurrency in results.
func ApplyCeilings(results []Result) {
	rate := map[string]float64{}
	key := func(w string, c int) string { return fmt.Sprintf("%s@%d", w, c) }
	for _, r := range results {
		if r.Unsupported == "" && r.Failed == "" {
			rate[key(r.Workload, r.Concurrency)] = r.Rate
		}
	}
	of := func(r Result, ceiling string) float64 {
		if raw := rate[key(ceiling, r.Concurrency)]; ceiling != "" && raw > 0 && r.Unsupported == "" && r.Failed == "" {
			return r.Rate / raw
		}
		return 0
	}
	for i, r := range results {
		results[i].Ratio = of(r, r.Ceiling)
		results[i].AuditedRatio = of(r, r.AuditedCeiling)
	}
}

// WriteJSON prints the report as indented JSON.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable prints the report for people: one line per workload and
// concurrency, the ratios to the raw ceilings when they were measured.
func (rep Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s  %s, %d CPUs, %s  commit %s  %s per level\n\n",
		rep.Date.Format("2006-01-02 15:04 MST"), rep.Machine.CPU, rep.Machine.CPUs, rep.Machine.Go,
		orDash(rep.Commit), rep.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tworkload\tconc\tops\trate\tp50 ms\tp95 ms\tp99 ms\terrors\tpeak RSS\tsrv µs/op\tcpu µs/op\tload\tvs raw\tvs audited\t")
	for _, r := range rep.Results {
		switch {
		case r.Unsupported != "" || r.Failed != "":
			what := r.Unsupported
			if what == "" {
				what = "failed: " + firstLine(r.Failed, 60)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t%s\t\t\t\t\t\t\t\t\t\t\t\n", r.Target, r.Workload, concText(r.Concurrency), what)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f %s\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t%.1f\t%s\t%s\t\n",
				r.Target, r.Workload, r.Concurrency, r.Ops, finite(r.Rate), r.Unit, r.P50ms, r.P95ms, r.P99ms,
				orDash(r.ErrorSummary()), rss(r.PeakRSSKiB), micros(r.ServerCPUus), micros(r.MachineCPUus), r.Load1, ratio(r.Ratio), ratio(r.AuditedRatio))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range rep.Notes {
			fmt.Fprintln(w, "note:", n)
		}
	}
	return nil
}

func concText(c int) string {
	if c == 0 {
		return "-"
	}
	return fmt.Sprint(c)
}

func rss(kib int64) string {
	if kib == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
}

func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// micros renders a CPU time per operation, "-" when not measured.
func micros(us float64) string {
	if us <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", us)
}
