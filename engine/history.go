package engine

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/policy"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// HistoryRequest selects versions at system (no Type), type (no ID) or
// instance level.
type HistoryRequest struct {
	Type   string
	ID     string
	Since  time.Time
	Count  int   // 0: the configured default
	Cursor int64 // from a previous page's Next
}

// History returns a page of versions, newest first. Under an access
// policy that restricts a type, only the versions the caller may read are
// returned (so a page may hold fewer than Count), with hidden fields
// removed.
func (e *Engine) History(ctx context.Context, p Principal, req HistoryRequest) (store.HistoryPage, error) {
	interaction := "history-system"
	switch {
	case req.ID != "":
		interaction = "history-instance"
	case req.Type != "":
		interaction = "history-type"
	}
	page, err := e.history(ctx, p, interaction, req)
	ev := e.event(p, interaction, err)
	ev.Query = historyQuery(req)
	if req.ID != "" {
		ev.Entities = []audit.Ref{{Type: req.Type, ID: req.ID}}
	}
	return page, e.commitAudit(ctx, p, err, ev)
}

func (e *Engine) history(ctx context.Context, p Principal, interaction string, req HistoryRequest) (store.HistoryPage, error) {
	switch {
	case req.Type == "":
		// System history spans every type, so it needs a wildcard scope.
		if err := allow(p, "*", scope.Read); err != nil {
			return store.HistoryPage{}, err
		}
		if err := checkNoCompartmentQuery(p, "*", scope.Read); err != nil {
			return store.HistoryPage{}, err
		}
	case req.ID == "":
		if err := checkType(req.Type); err != nil {
			return store.HistoryPage{}, err
		}
		if err := allow(p, req.Type, scope.Read); err != nil {
			return store.HistoryPage{}, err
		}
		if err := checkNoCompartmentQuery(p, req.Type, scope.Read); err != nil {
			return store.HistoryPage{}, err
		}
	default:
		if err := target(p, req.Type, req.ID, scope.Read); err != nil {
			return store.HistoryPage{}, err
		}
		if err := checkCompartmentOf(ctx, tenantReader{e.store, p.Tenant}, p, req.Type, req.ID, scope.Read); err != nil {
			return store.HistoryPage{}, err
		}
	}
	count := req.Count
	if count <= 0 {
		count = e.cfg.DefaultHistoryCount
	}
	if count > e.cfg.MaxHistoryCount {
		count = e.cfg.MaxHistoryCount
	}
	// The policy sees instance history as history of the type; each
	// version is then checked on its own.
	gate := interaction
	if gate == "history-instance" {
		gate = "history-type"
	}
	d, err := e.decide(ctx, p, gate, req.Type, "", nil, nil)
	if err != nil {
		return store.HistoryPage{}, err
	}
	page, err := e.store.History(ctx, p.Tenant, store.HistoryQuery{
		Type: req.Type, ID: req.ID, Since: req.Since, Before: req.Cursor, Count: count,
	})
	if err != nil {
		return page, err
	}
	if page.Records, err = e.visibleVersions(ctx, p, d, page.Records); err != nil {
		return store.HistoryPage{}, err
	}
	if req.ID != "" && req.Cursor == 0 && len(page.Records) == 0 {
		// An empty page is fine after _since; a resource that never existed is not.
		if _, err := e.store.Read(ctx, p.Tenant, req.Type, req.ID); err != nil {
			return page, err
		}
	}
	return page, nil
}

// visibleVersions keeps the versions the caller may read, with hidden
// fields removed. Types the policy leaves open pass untouched; for a
// restricted type each version is decided as a read of that version, and
// delete markers, which have nothing to decide on, are left out.
func (e *Engine) visibleVersions(ctx context.Context, p Principal, d policy.Decision, recs []store.Record) ([]store.Record, error) {
	out := recs[:0]
	for _, rec := range recs {
		c, ok := d.SearchConstraints.For(rec.Type)
		if !ok {
			continue
		}
		if len(c.All) == 0 {
			rec.Body = redact(rec.Body, rec.Type, d.HiddenFields)
			out = append(out, rec)
			continue
		}
		if rec.Deleted {
			continue
		}
		vd, err := e.decide(ctx, p, "vread", rec.Type, rec.ID, rec.Body, nil)
		if fhir.IsKind(err, fhir.KindForbidden) || fhir.IsKind(err, fhir.KindNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rec.Body = redact(rec.Body, rec.Type, vd.HiddenFields)
		out = append(out, rec)
	}
	return out, nil
}

// historyQuery renders a history request for its AuditEvent.
func historyQuery(req HistoryRequest) string {
	path := "_history"
	switch {
	case req.ID != "":
		path = req.Type + "/" + req.ID + "/_history"
	case req.Type != "":
		path = req.Type + "/_history"
	}
	q := url.Values{}
	if !req.Since.IsZero() {
		q.Set("_since", req.Since.UTC().Format(time.RFC3339Nano))
	}
	if req.Count > 0 {
		q.Set("_count", strconv.Itoa(req.Count))
	}
	if req.Cursor > 0 {
		q.Set("_cursor", strconv.FormatInt(req.Cursor, 10))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
