package engine

import (
	"context"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// SearchRequest is a search at type level (Type set) or system level.
type SearchRequest struct {
	Type string
	// Query is the query string: the URL's, and for POST _search the form
	// body's, joined with &.
	Query string
	// Strict refuses unknown parameters instead of ignoring them.
	Strict bool
	// Constraints narrow the search for the caller, inside the same SQL
	// (access policy); they are added to those the engine derives from
	// the caller's scopes.
	Constraints []store.Constraint
}

// SearchResult is one page of a search.
type SearchResult struct {
	Query *search.Query
	Page  store.SearchPage
	// Next and Prev are opaque cursors for the neighbouring pages, "" at
	// either end; Count is the page size used.
	Next, Prev string
	Count      int
}

// Search runs a search. It needs the search permission on every type
// searched and read on every type whose resources the result includes;
// resources of types the caller may not read never match a chain or _has
// and are never included. Under an access policy the policy's search
// constraints narrow every part of the search inside its SQL, and fields
// the policy hides are removed from what it returns. Every search is
// audited with its query.
func (e *Engine) Search(ctx context.Context, p Principal, req SearchRequest) (SearchResult, error) {
	interaction := "search-type"
	if req.Type == "" {
		interaction = "search-system"
	}
	res, err := e.search(ctx, p, interaction, req, nil)
	ev := e.event(p, interaction, err)
	ev.Query = req.Type + "?" + req.Query
	return res, e.commitAudit(ctx, p, err, ev)
}

// search runs a search in tx, or (tx nil) on the store.
func (e *Engine) search(ctx context.Context, p Principal, interaction string, req SearchRequest, tx store.Tx) (SearchResult, error) {
	if req.Type != "" {
		if err := checkType(req.Type); err != nil {
			return SearchResult{}, err
		}
	}
	q, err := e.registry.Parse(req.Type, req.Query, search.ParseOptions{
		// AuditEvent searches refuse what they cannot answer (auditsearch.go).
		Base: e.cfg.BaseURL, Now: e.now(), Strict: req.Strict || req.Type == auditType,
	})
	if err != nil {
		return SearchResult{}, err
	}
	if req.Type == "" && contains(q.Types, auditType) {
		return SearchResult{}, fhir.Errorf(fhir.KindInvalid, "AuditEvents are searched at AuditEvent?…, not across types").At("_type")
	}
	if err := searchAllowed(p, q); err != nil {
		return SearchResult{}, err
	}
	d, err := e.decide(ctx, p, interaction, req.Type, "", nil, nil)
	if err != nil {
		return SearchResult{}, err
	}
	if req.Type == auditType {
		return e.searchAudit(ctx, p, q, d)
	}
	cons, err := e.policyConstraints(d.SearchConstraints, reachableTypes(q))
	if err != nil {
		return SearchResult{}, err
	}
	scoped, err := e.scopeConstraints(p, q)
	if err != nil {
		return SearchResult{}, err
	}
	cons = append(append(append(cons, scoped...), readConstraints(p, q)...), req.Constraints...)
	sq := store.SearchQuery{
		Types: q.Types, Where: q.Criteria, Sort: q.Sort, Include: q.Include, Constraints: cons,
	}
	sq.Count = e.cfg.DefaultSearchCount
	if q.Count >= 0 {
		sq.Count = min(q.Count, e.cfg.MaxSearchCount)
	}
	if q.Summary == search.SummaryCount {
		sq.Count = 0
	}
	if q.Cursor != "" {
		if sq.Cursor, err = decodeCursor(q.Cursor); err != nil {
			return SearchResult{}, err
		}
	}
	switch q.Total {
	case search.TotalAccurate, search.TotalEstimate:
		sq.Total = true
	case search.TotalDefault:
		// Counting every match costs more than the page itself on a broad
		// search (50,000 matches counted to show 20), so by default only a
		// count-only search counts; clients that want Bundle.total ask for
		// _total=accurate (docs/decisions.md).
		sq.Total = sq.Count == 0
	}
	if e.cfg.SearchTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.SearchTimeout)
		defer cancel()
	}
	var page store.SearchPage
	if tx != nil {
		page, err = tx.Search(ctx, sq)
	} else {
		page, err = e.store.Search(ctx, p.Tenant, sq)
	}
	if err != nil {
		return SearchResult{}, err
	}
	for _, recs := range [][]store.Record{page.Records, page.Included} {
		for i := range recs {
			recs[i].Body = redact(recs[i].Body, recs[i].Type, d.HiddenFields)
		}
	}
	if err := e.subset(q, &page); err != nil {
		return SearchResult{}, err
	}
	return SearchResult{Query: q, Page: page, Count: sq.Count,
		Next: encodeCursor(page.Next), Prev: encodeCursor(page.Prev)}, nil
}

// searchAllowed checks the scopes a search needs: search on every type
// searched (a wildcard for a system search over all types) and read on the
// types an _include or _revinclude names.
func searchAllowed(p Principal, q *search.Query) error {
	if len(q.Types) == 0 {
		if err := allow(p, "*", scope.Search); err != nil {
			return err
		}
	}
	for _, t := range q.Types {
		if err := allow(p, t, scope.Search); err != nil {
			return err
		}
	}
	for _, inc := range q.Include {
		named := inc.TargetType
		if inc.Reverse {
			named = inc.Source
		}
		if named != "" {
			if err := allow(p, named, scope.Read); err != nil {
				return err
			}
		}
	}
	return nil
}

// readConstraints hides the types the caller may not read from the parts
// of a search that reach beyond the searched types: chains, _has and
// includes. A criterion on a resource the caller cannot read must not
// match, or the search would reveal that resource's values.
func readConstraints(p Principal, q *search.Query) []store.Constraint {
	if !reachesOut(q) || len(q.Types) == 0 {
		return nil
	}
	var out []store.Constraint
	for _, t := range fhir.ResourceTypes() {
		if !contains(q.Types, t) && !p.Scopes.Allows(t, scope.Read) {
			out = append(out, store.Constraint{Type: t, Deny: true})
		}
	}
	return out
}

// reachesOut reports whether a query selects resources other than the
// matches: includes, chains or _has.
func reachesOut(q *search.Query) bool {
	if len(q.Include) > 0 {
		return true
	}
	for _, c := range q.Criteria {
		if c.Chain != nil || c.Has != nil {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// subset applies _summary and _elements to the page's resources.
func (e *Engine) subset(q *search.Query, page *store.SearchPage) error {
	if q.Summary == search.SummaryNone && len(q.Elements) == 0 || q.Summary == search.SummaryFalse {
		return nil
	}
	for _, recs := range [][]store.Record{page.Records, page.Included} {
		for i := range recs {
			b, err := e.registry.Subset(recs[i].Type, recs[i].Body, q.Summary, q.Elements)
			if err != nil {
				return err
			}
			recs[i].Body = b
		}
	}
	return nil
}

// SearchParameters lists the search parameters searches of typ accept, for
// the CapabilityStatement.
func (e *Engine) SearchParameters(typ string) []*search.Param {
	var out []*search.Param
	for _, p := range e.registry.Params(typ) {
		if p.Supported() {
			out = append(out, p)
		}
	}
	return out
}
