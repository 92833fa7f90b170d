package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/store"
)

// day returns midnight of day n of 2000.
func day(n int) time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

// appendDays appends one AuditEvent recorded at each of days.
func appendDays(t testing.TB, db store.Store, tenant string, days ...int) {
	t.Helper()
	for _, d := range days {
		l := audit.NewLog(audit.ServerRef{Name: "hearth"}, audit.WithClock(func() time.Time { return day(d) }))
		r := record(t, l, d)
		if err := db.Tx(context.Background(), tenant, func(tx store.Tx) error { return audit.Append(context.Background(), tx, r) }); err != nil {
			t.Fatal(err)
		}
	}
}

// The retention job purges at start and on every tick, with the clock it
// is given; every chain still verifies after each pass, appends go on, and
// the job stops with its context.
func TestRetentionJob(t *testing.T) {
	db := openStore(t)
	appendDays(t, db, "t1", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	appendDays(t, db, "t2", 0, 1, 2, 3, 4)
	var (
		mu  sync.Mutex
		now = day(7)
	)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ticks := make(chan time.Time)
	passes := make(chan []audit.Purged)
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		audit.Retention{Log: db, Keep: 5 * 24 * time.Hour, Now: clock, Ticks: ticks,
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			Done: func(p []audit.Purged, err error) {
				if err != nil {
					t.Errorf("pass: %v", err)
				}
				passes <- p
			}}.Run(ctx)
	}()
	removed := func(ps []audit.Purged) map[string]int64 {
		out := map[string]int64{}
		for _, p := range ps {
			out[p.Tenant] = p.Removed
		}
		return out
	}
	verify := func(tenant string, first, last int64) {
		t.Helper()
		rep, err := audit.Verify(context.Background(), db, tenant)
		if err != nil || rep.Break != nil || rep.First != first || rep.Last != last || rep.Checked != last-first+1 {
			t.Errorf("%s: Verify = %+v (break %v), %v; want entries %d to %d", tenant, rep, rep.Break, err, first, last)
		}
	}
	// At start: the cutoff is day 2, entries of days 0 and 1 go.
	if got := removed(<-passes); got["t1"] != 2 || got["t2"] != 2 {
		t.Errorf("first pass removed %v", got)
	}
	verify("t1", 3, 10)
	verify("t2", 3, 5)
	// Five days later the cutoff is day 7; t2 has nothing left.
	mu.Lock()
	now = day(12)
	mu.Unlock()
	ticks <- day(12)
	if got := removed(<-passes); got["t1"] != 5 || got["t2"] != 3 {
		t.Errorf("second pass removed %v", got)
	}
	verify("t1", 8, 10)
	verify("t2", 6, 5)
	appendDays(t, db, "t2", 12)
	verify("t2", 6, 6)
	// Nothing is old enough: a pass removes nothing.
	ticks <- day(12)
	if got := removed(<-passes); got["t1"] != 0 || got["t2"] != 0 {
		t.Errorf("third pass removed %v", got)
	}
	cancel()
	<-stopped
	out := logs.String()
	for _, want := range []string{"tenant=t1 removed=2 recorded_before=2000-01-03T00:00:00Z", "tenant=t2 removed=3 recorded_before=2000-01-08T00:00:00Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "purged AuditEvents") != 4 {
		t.Errorf("log of the passes:\n%s", out)
	}
}

// Purge names every tenant it purged, also those it removed nothing from.
func TestPurgeTenants(t *testing.T) {
	db := openStore(t)
	appendDays(t, db, "a", 0, 1)
	appendDays(t, db, "b", 5)
	got, err := audit.Purge(context.Background(), db, nil, day(3))
	if err != nil || len(got) != 2 || got[0] != (audit.Purged{Tenant: "a", Removed: 2, Before: day(3)}) || got[1].Tenant != "b" || got[1].Removed != 0 {
		t.Errorf("Purge = %+v, %v", got, err)
	}
	if got, err := audit.Purge(context.Background(), db, []string{"b"}, day(6)); err != nil || len(got) != 1 || got[0].Removed != 1 {
		t.Errorf("Purge of b = %+v, %v", got, err)
	}
}

// The index job indexes every tenant at start and on every tick, and stops
// with its context.
func TestIndexingJob(t *testing.T) {
	db := openStore(t)
	appendDays(t, db, "t1", 0, 1, 2)
	appendDays(t, db, "t2", 0)
	ticks := make(chan time.Time)
	passes := make(chan int)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		audit.Indexing{Log: db, Ticks: ticks, Done: func(n int, err error) {
			if err != nil {
				t.Errorf("pass: %v", err)
			}
			passes <- n
		}}.Run(ctx)
	}()
	indexed := func(tenant string) int64 {
		t.Helper()
		at, err := db.AuditIndexed(context.Background(), tenant)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	if n := <-passes; n != 4 || indexed("t1") != 3 || indexed("t2") != 1 {
		t.Errorf("first pass indexed %d entries; positions %d, %d", n, indexed("t1"), indexed("t2"))
	}
	appendDays(t, db, "t2", 1, 2)
	ticks <- time.Now()
	if n := <-passes; n != 2 || indexed("t2") != 3 {
		t.Errorf("second pass indexed %d entries; t2 at %d", n, indexed("t2"))
	}
	ticks <- time.Now()
	if n := <-passes; n != 0 {
		t.Errorf("a pass with nothing new indexed %d", n)
	}
	cancel()
	<-stopped
}
