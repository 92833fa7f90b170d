package engine

import (
	"context"
	"time"

	"github.com/hearth-fhir/hearth/auth/scope"
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

// History returns a page of versions, newest first.
func (e *Engine) History(ctx context.Context, p Principal, req HistoryRequest) (store.HistoryPage, error) {
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
	page, err := e.store.History(ctx, p.Tenant, store.HistoryQuery{
		Type: req.Type, ID: req.ID, Since: req.Since, Before: req.Cursor, Count: count,
	})
	if err != nil {
		return page, err
	}
	if req.ID != "" && req.Cursor == 0 && len(page.Records) == 0 {
		// An empty page is fine after _since; a resource that never existed is not.
		if _, err := e.store.Read(ctx, p.Tenant, req.Type, req.ID); err != nil {
			return page, err
		}
	}
	return page, nil
}
