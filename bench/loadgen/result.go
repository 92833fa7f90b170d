package loadgen

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Result is one workload measured at one concurrency.
type Result struct {
	Target      string `json:"target"`   // "hearth" (any FHIR server over HTTP), "raw-postgres", "raw-sqlite"
	Workload    string `json:"workload"` // "W1", "W3-high", "raw-create" …
	Title       string `json:"title"`    // what it does, for people
	Concurrency int    `json:"concurrency"`
	// Unsupported is set when the server does not offer the interaction
	// (e.g. "unsupported (501)"); nothing else is then filled in.
	Unsupported string `json:"unsupported,omitempty"`
	// Failed holds why the workload could not run at all (setup failed).
	Failed string `json:"failed,omitempty"`

	Ops     uint64            `json:"ops"`   // successful requests or transactions
	Items   uint64            `json:"items"` // resources they carried (= Ops except for bundles)
	Unit    string            `json:"unit"`  // what Rate counts: "req/s" or "res/s"
	Rate    float64           `json:"rate"`  // Items per second of wall time
	Seconds float64           `json:"seconds"`
	Errors  map[string]uint64 `json:"errors,omitempty"` // by HTTP status or error class
	P50ms   float64           `json:"p50_ms"`
	P95ms   float64           `json:"p95_ms"`
	P99ms   float64           `json:"p99_ms"`
	MaxMs   float64           `json:"max_ms"`

	// Server memory in KiB when --server-pid was given: the largest VmRSS
	// sampled during the run and VmHWM (the process's lifetime peak) at its end.
	PeakRSSKiB int64 `json:"peak_rss_kib,omitempty"`
	HWMKiB     int64 `json:"hwm_kib,omitempty"`
	// CPU per item (per resource for W5) during the level, in
	// microseconds: the server process's when --server-pid was given, and
	// the whole machine's (server, database and load generator). Unlike
	// the rate it hardly moves with other work on a shared machine.
	ServerCPUus  float64 `json:"server_cpu_us,omitempty"`
	MachineCPUus float64 `json:"machine_cpu_us,omitempty"`
	// Load1 is the machine's 1-minute load average when the level began:
	// on a shared machine, the context every figure needs.
	Load1 float64 `json:"load1,omitempty"`

	// Ceiling names the raw workload this one is compared with, and Ratio
	// is Rate divided by the ceiling's Rate at the same concurrency.
	Ceiling string  `json:"ceiling,omitempty"`
	Ratio   float64 `json:"ratio,omitempty"`
	// AuditedCeiling and AuditedRatio are the same for the ceiling that
	// also appends an audit row durably (Workload.AuditedCeiling).
	AuditedCeiling string  `json:"audited_ceiling,omitempty"`
	AuditedRatio   float64 `json:"audited_ratio,omitempty"`
}

// ErrorCount is the number of failed operations.
func (r Result) ErrorCount() uint64 {
	var n uint64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// ErrorSummary renders the errors as "412×3 500×1", sorted by key.
func (r Result) ErrorSummary() string {
	s := ""
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		if s != "" {
			s += " "
		}
		s += fmt.Sprintf("%s×%d", k, r.Errors[k])
	}
	return s
}

// UnsupportedError says the server does not offer what a workload needs;
// the workload is reported as unsupported instead of failing the run.
type UnsupportedError struct {
	Status int    // the HTTP status that said so
	What   string // the interaction, e.g. "search"
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s unsupported (%d)", e.What, e.Status)
}

// unsupportedReason returns the report text for an unsupported error.
func unsupportedReason(err error) (string, bool) {
	var u *UnsupportedError
	if errors.As(err, &u) {
		return fmt.Sprintf("unsupported (%d)", u.Status), true
	}
	return "", false
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
