package audit

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hearth-fhir/hearth/store"
)

// DefaultRetention is how long AuditEvents are kept unless configured:
// six years, 2191 days with the leap days.
const DefaultRetention = 2191 * 24 * time.Hour

// Purged is what a purge removed from one tenant's chain.
type Purged struct {
	Tenant  string
	Removed int64
	Before  time.Time // the cutoff: entries recorded before it went
}

// Purge removes the entries recorded before cutoff from the chains of
// tenants (every tenant with an audit log when none are named). The store
// moves each chain's anchor, so the rest still verifies. It stops at the
// first tenant that fails, returning what was done before.
func Purge(ctx context.Context, log store.AuditLog, tenants []string, before time.Time) ([]Purged, error) {
	if len(tenants) == 0 {
		var err error
		if tenants, err = log.AuditTenants(ctx); err != nil {
			return nil, err
		}
	}
	var out []Purged
	for _, t := range tenants {
		n, err := log.PurgeAudit(ctx, t, before)
		if err != nil {
			return out, fmt.Errorf("tenant %s: %w", t, err)
		}
		out = append(out, Purged{Tenant: t, Removed: n, Before: before})
	}
	return out, nil
}

// Retention is the purge job of a running server: it removes AuditEvents
// older than Keep from every tenant, once when Run starts and then on
// every tick, until Run's context ends.
type Retention struct {
	Log  store.AuditLog
	Keep time.Duration
	// Every is the time between passes; 0 means 24 hours.
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Ticks, when set, replaces the timer of Every: a pass runs for each
	// value received (tests drive the job with it).
	Ticks <-chan time.Time
	// Logger hears what each pass removed and what failed; nil logs nothing.
	Logger *slog.Logger
	// Done, when set, hears of every pass after it is logged.
	Done func([]Purged, error)
}

// Run purges now and then on every tick until ctx ends. A pass that fails
// is logged and the next one tries again.
func (r Retention) Run(ctx context.Context) {
	every(ctx, r.Every, 24*time.Hour, r.Ticks, func() { r.pass(ctx) })
}

// pass purges once and reports it.
func (r Retention) pass(ctx context.Context) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	purged, err := Purge(ctx, r.Log, nil, now().Add(-r.Keep))
	if r.Logger != nil {
		for _, p := range purged {
			if p.Removed > 0 {
				r.Logger.InfoContext(ctx, "audit retention: purged AuditEvents", "tenant", p.Tenant,
					"removed", p.Removed, "recorded_before", p.Before.UTC().Format(time.RFC3339))
			}
		}
		if err != nil && ctx.Err() == nil {
			r.Logger.ErrorContext(ctx, "audit retention: purge failed", "err", err)
		}
	}
	if r.Done != nil {
		r.Done(purged, err)
	}
}
