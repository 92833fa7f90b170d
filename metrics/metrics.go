// Package metrics exposes Hearth's Prometheus metrics: HTTP requests by
// interaction and status class with their latency, the audit committer's
// group commits (how many requests share one, how long the database took),
// the progress of background re-encryptions, and the Go runtime's and
// process's own. Labels
// are interaction names, status classes and tenant ids: never PHI, never
// resource ids or search values.
//
// Everything registers with a Registry of its own, never the global one,
// so that several servers in one process (tests) keep their counts apart.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/fhir"
)

// Metrics is one server's metrics.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	groups   *prometheus.CounterVec
	sizes    prometheus.Histogram
	commits  prometheus.Histogram
}

// latencyBuckets span a cached read (a fraction of a millisecond) to a
// search at its timeout.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// groupSizeBuckets span a request alone to the committer's largest group.
var groupSizeBuckets = []float64{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 512}

// commitBuckets span a commit on an idle database (a fraction of a
// millisecond, mostly the disk's flush) to one that times out.
var commitBuckets = []float64{.00025, .0005, .001, .002, .004, .008, .016, .032, .064, .128, .5, 2, 10, 30}

// New returns the metrics of a server whose re-encryptions are jobs (nil:
// none).
func New(jobs *crypt.Reencryptions) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_http_requests_total",
			Help: "HTTP requests answered, by FHIR interaction (or endpoint group) and status class.",
		}, []string{"interaction", "class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by FHIR interaction (or endpoint group).",
			Buckets: latencyBuckets,
		}, []string{"interaction"}),
		groups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_audit_groups_total",
			Help: "Group commits of the audit committer, by outcome: committed, conflict (its requests committed again: the group once whole, then one by one), failed.",
		}, []string{"outcome"}),
		sizes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hearth_audit_group_requests",
			Help:    "Requests per group commit: how many requests share one durable commit.",
			Buckets: groupSizeBuckets,
		}),
		commits: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hearth_audit_group_commit_seconds",
			Help:    "Time the store took to commit one group, writes, AuditEvents and the durable commit together.",
			Buckets: commitBuckets,
		}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.groups, m.sizes, m.commits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if jobs != nil {
		m.reg.MustRegister(reencryptCollector{jobs})
	}
	return m
}

// ObserveRequest counts an answered request; server calls it for every
// request.
func (m *Metrics) ObserveRequest(interaction string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(interaction, statusClass(status)).Inc()
	m.latency.WithLabelValues(interaction).Observe(elapsed.Seconds())
}

// ObserveGroup counts one group commit of the audit committer (see
// audit.CommitObserver): its requests, the store's time, its outcome.
func (m *Metrics) ObserveGroup(requests int, took time.Duration, err error) {
	outcome := "committed"
	switch {
	case fhir.IsKind(err, fhir.KindConflict):
		outcome = "conflict"
	case err != nil:
		outcome = "failed"
	}
	m.groups.WithLabelValues(outcome).Inc()
	m.sizes.Observe(float64(requests))
	m.commits.Observe(took.Seconds())
}

// statusClass is "2xx", "4xx" …: classes keep the label set small.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// reencryptCollector reports the re-encryptions as they stand when
// scraped, rather than copying every progress step into gauges.
type reencryptCollector struct{ jobs *crypt.Reencryptions }

var (
	reRunning   = reDesc("running", "1 while the tenant's re-encryption runs, else 0.")
	reVersion   = reDesc("target_version", "The DEK version the tenant's re-encryption moves data to.")
	rePass      = reDesc("pass", "The pass the re-encryption is in (a pass reads every stored body once).")
	reDone      = reDesc("pass_done_rows", "Stored bodies looked at in the current pass.")
	reTotal     = reDesc("pass_total_rows", "Stored bodies of the tenant when the current pass began.")
	reRewritten = reDesc("rewritten_rows", "Stored bodies re-encrypted by the tenant's latest re-encryption.")
	reFailed    = reDesc("failed_rows", "Stored bodies that did not decrypt during the latest re-encryption.")
	reStarted   = reDesc("started_timestamp_seconds", "When the latest re-encryption started, Unix time.")
	reFinished  = reDesc("finished_timestamp_seconds", "When the latest re-encryption ended, Unix time; 0 while it runs.")
	reError     = reDesc("error", "1 when the latest re-encryption ended in error, else 0.")
)

func reDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("hearth_reencrypt_"+name, help, []string{"tenant"}, nil)
}

func (c reencryptCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reRunning, reVersion, rePass, reDone, reTotal, reRewritten, reFailed, reStarted, reFinished, reError} {
		ch <- d
	}
}

func (c reencryptCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.jobs.All() {
		p := st.Progress
		finished := 0.0
		if !st.Finished.IsZero() {
			finished = float64(st.Finished.UnixNano()) / 1e9
		}
		for d, v := range map[*prometheus.Desc]float64{
			reRunning: boolFloat(st.Running), reVersion: float64(p.Version), rePass: float64(p.Pass),
			reDone: float64(p.Scanned), reTotal: float64(p.Total), reRewritten: float64(p.Rewritten),
			reFailed: float64(p.Failed), reStarted: float64(st.Started.UnixNano()) / 1e9, reFinished: finished,
			reError: boolFloat(st.Err != nil),
		} {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, st.Tenant)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
