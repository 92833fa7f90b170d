package metrics

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

// Requests are counted by interaction and status class and timed; the
// output is the Prometheus text format.
func TestObserveRequest(t *testing.T) {
	m := New(nil)
	m.ObserveRequest("read", 200, 2*time.Millisecond)
	m.ObserveRequest("read", 404, time.Millisecond)
	m.ObserveRequest("read", 204, time.Millisecond)
	m.ObserveRequest("create", 0, time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`hearth_http_requests_total{class="2xx",interaction="read"} 2`,
		`hearth_http_requests_total{class="4xx",interaction="read"} 1`,
		`hearth_http_requests_total{class="other",interaction="create"} 1`,
		`hearth_http_request_duration_seconds_bucket{interaction="read",le="0.001"} 2`,
		`hearth_http_request_duration_seconds_count{interaction="read"} 3`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(out, "hearth_reencrypt_") {
		t.Error("re-encryption gauges without re-encryptions")
	}
}

// Group commits are counted by outcome, with their sizes and times.
func TestObserveGroup(t *testing.T) {
	m := New(nil)
	m.ObserveGroup(1, 300*time.Microsecond, nil)
	m.ObserveGroup(5, 3*time.Millisecond, nil)
	m.ObserveGroup(2, time.Millisecond, fhir.Errorf(fhir.KindConflict, "the audit chain moved on"))
	m.ObserveGroup(1, time.Second, errors.New("connection refused"))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`hearth_audit_groups_total{outcome="committed"} 2`,
		`hearth_audit_groups_total{outcome="conflict"} 1`,
		`hearth_audit_groups_total{outcome="failed"} 1`,
		`hearth_audit_group_requests_bucket{le="1"} 2`,
		`hearth_audit_group_requests_bucket{le="4"} 3`,
		`hearth_audit_group_requests_sum 9`,
		`hearth_audit_group_commit_seconds_bucket{le="0.0005"} 1`,
		`hearth_audit_group_commit_seconds_bucket{le="0.004"} 3`,
		`hearth_audit_group_commit_seconds_count 4`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// What every request pays for being counted.
func BenchmarkObserveRequest(b *testing.B) {
	m := New(nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("read", 200, time.Millisecond)
		}
	})
}
