package audit

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Index parameters: the AuditEvent search parameters the audit index keeps
// values of (store.AuditValue.Param). The date parameter reads the entry's
// recorded time, which the store keeps anyway; patient is the agent and
// entity values of type Patient, as R4 defines it, and has no values of
// its own.
const (
	ParamAgent           = "agent"
	ParamAgentIdentifier = "agent:identifier"
	ParamEntity          = "entity"
	ParamPatient         = "patient"
	ParamType            = "type"
	ParamSubtype         = "subtype"
	ParamOutcome         = "outcome"
	ParamSource          = "source"
)

// SourceType is the resource type the observer (this server) is indexed
// under for the source parameter: source=hearth and source=Device/hearth
// find the events a server named hearth recorded.
const SourceType = "Device"

// IndexedElements maps each index parameter to the AuditEvent elements its
// values come from. An element that field encryption seals is stored as an
// envelope the index cannot read, so it has no values: the engine refuses
// searches on it rather than find nothing.
var IndexedElements = map[string][]string{
	ParamAgent:           {"AuditEvent.agent.who"},
	ParamAgentIdentifier: {"AuditEvent.agent.who"},
	ParamEntity:          {"AuditEvent.entity.what"},
	ParamPatient:         {"AuditEvent.agent.who", "AuditEvent.entity.what"},
	ParamType:            {"AuditEvent.type"},
	ParamSubtype:         {"AuditEvent.subtype"},
	ParamOutcome:         {"AuditEvent.outcome"},
	ParamSource:          {"AuditEvent.source.observer"},
}

// indexBatch is how many entries one index transaction covers: on SQLite
// it holds the one write lock, so it stays short.
const indexBatch = 200

// Index brings tenant's audit index up to the chain's head as it stands
// when Index starts: it reads the entries past the index position, takes
// their values from the stored bodies (ValuesOf) and writes them with the
// new position, a batch per transaction. Indexers running at once (another
// server, a search) do not write anything twice: the one that finds the
// position moved picks up from there. It returns how many entries it
// indexed.
func Index(ctx context.Context, log store.AuditLog, tenant, base string) (int, error) {
	head, err := log.AuditChain(ctx, tenant)
	if fhir.IsKind(err, fhir.KindNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	at, err := log.AuditIndexed(ctx, tenant)
	if err != nil {
		return 0, err
	}
	n := 0
	for at < head.Seq {
		page, err := log.ScanAudit(ctx, tenant, store.AuditQuery{After: at, Limit: indexBatch})
		if err != nil {
			return n, err
		}
		to := head.Seq // nothing left past at: a purge took it
		if len(page) > 0 {
			to = page[len(page)-1].Seq
		}
		for i := range page {
			page[i].Index = IndexValues(page[i].Body, base)
		}
		err = log.IndexAudit(ctx, tenant, at, to, page)
		if fhir.IsKind(err, fhir.KindConflict) {
			if at, err = log.AuditIndexed(ctx, tenant); err != nil {
				return n, err
			}
			continue
		}
		if err != nil {
			return n, err
		}
		n += len(page)
		at = to
	}
	return n, nil
}

// IndexValues lists the values the audit index keeps of a stored
// AuditEvent: its values (ValuesOf) but those of each parameter whose only
// value is its default (store.AuditDefaults), which searches read from the
// missing row. A read's AuditEvent then needs two or three rows instead of
// six or seven.
func IndexValues(body []byte, base string) []store.AuditValue {
	vals := ValuesOf(body, base)
	count := map[string]int{}
	for _, v := range vals {
		if _, ok := store.AuditDefaults[v.Param]; ok {
			count[v.Param]++
		}
	}
	return slices.DeleteFunc(vals, func(v store.AuditValue) bool {
		return count[v.Param] == 1 && v == store.AuditDefaults[v.Param]
	})
}

// Indexing is the background job of a running server that keeps every
// tenant's audit index close to its chain, so that a search, which
// indexes what is left first, rarely waits for it.
type Indexing struct {
	Log  store.AuditLog
	Base string // the server's FHIR base URL (see ValuesOf)
	// Every is the time between passes; 0 means 2 seconds.
	Every time.Duration
	// Ticks, when set, replaces the timer of Every (tests).
	Ticks <-chan time.Time
	// Logger hears of failures; nil logs nothing.
	Logger *slog.Logger
	// Done, when set, hears of every pass: entries indexed, first error.
	Done func(int, error)
}

// Run indexes every tenant now and then on every tick until ctx ends.
func (x Indexing) Run(ctx context.Context) {
	every(ctx, x.Every, 2*time.Second, x.Ticks, func() {
		n, err := IndexAll(ctx, x.Log, x.Base)
		if err != nil && ctx.Err() == nil && x.Logger != nil {
			x.Logger.ErrorContext(ctx, "audit index: pass failed", "err", err)
		}
		if x.Done != nil {
			x.Done(n, err)
		}
	})
}

// IndexAll indexes every tenant with an audit chain (see Index).
func IndexAll(ctx context.Context, log store.AuditLog, base string) (int, error) {
	tenants, err := log.AuditTenants(ctx)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, t := range tenants {
		n, err := Index(ctx, log, t, base)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// every runs pass now and then on every tick (of ticks, or of a timer of
// interval d, def when d is 0) until ctx ends.
func every(ctx context.Context, d, def time.Duration, ticks <-chan time.Time, pass func()) {
	if ticks == nil {
		if d <= 0 {
			d = def
		}
		t := time.NewTicker(d)
		defer t.Stop()
		ticks = t.C
	}
	for {
		pass()
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}
