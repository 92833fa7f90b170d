package engine

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// BundleEntry is one request of a batch or transaction Bundle, as the
// Bundle carries it.
type BundleEntry struct {
	FullURL  string
	Method   string // GET, HEAD, POST, PUT, PATCH, DELETE
	URL      string
	Resource []byte // the body of POST and PUT; for PATCH a Binary holding the patch
	// Parsed is Resource parsed (fhir.ParseObject), when the caller has it:
	// a create then skips parsing and validating the JSON again. The
	// engine may change it.
	Parsed          *fhir.Object
	IfNoneExist     string
	IfMatch         string
	IfNoneMatch     string
	IfModifiedSince string
}

// EntryResult is what one entry did. In a batch, Err is the entry's own
// failure; in a transaction any failure fails the whole Bundle instead.
type EntryResult struct {
	Result
	Method      string
	NotModified bool // a conditional GET whose version the client already has
	// Search is the page a search entry (GET Type?criteria) found.
	Search *EntrySearch
	Err    error
}

// EntrySearch is a search entry's request and its first page.
type EntrySearch struct {
	Request SearchRequest
	Result  SearchResult
}

// Transaction performs every entry in one database transaction: all or
// nothing. Entries run in the order the specification sets (DELETE, POST,
// PUT/PATCH, GET/HEAD) and results come back in Bundle order. Entry
// identities are resolved first (server ids for POSTs, conditional
// creates, updates and deletes), then every reference to an entry's fullUrl
// (urn:uuid:, urn:oid:, or a URL) and every conditional reference
// (Type?criteria) in the resources is rewritten to Type/id. Each entry is
// the same engine call a standalone request makes, so scopes, validation
// and indexing apply per entry. A failure names the entry it came from.
func (e *Engine) Transaction(ctx context.Context, p Principal, entries []BundleEntry) ([]EntryResult, error) {
	if err := e.checkBundleSize(p, len(entries)); err != nil {
		return nil, e.commitAudit(ctx, p, err, e.event(p, "transaction", err))
	}
	results, failed, err := e.transaction(ctx, p, entries, true)
	if err != nil {
		evs := []audit.Event{e.event(p, "transaction", err)}
		if failed >= 0 {
			evs = append(evs, e.entryEvent(p, entries[failed], EntryResult{}, err))
			err = entryError(failed, err)
		}
		return nil, e.commitAudit(ctx, p, err, evs...)
	}
	return results, nil
}

// transaction runs entries in one database transaction; on failure it
// reports which entry failed (-1 when none in particular did).
func (e *Engine) transaction(ctx context.Context, p Principal, entries []BundleEntry, whole bool) ([]EntryResult, int, error) {
	plans := make([]*entryPlan, len(entries))
	for i, en := range entries {
		pl, err := e.plan(p, en)
		if err != nil {
			return nil, i, err
		}
		plans[i] = pl
	}
	results := make([]EntryResult, len(entries))
	failed := -1
	err := e.store.Tx(ctx, p.Tenant, func(stx store.Tx) error {
		tx := &batchingTx{tx: stx}
		refs, i, err := e.resolveIdentities(ctx, tx, p, plans)
		if err != nil {
			failed = i
			return err
		}
		e.preparePosts(p, plans, refs)
		for _, i := range processingOrder(plans) {
			res, err := e.applyEntry(ctx, tx, p, plans[i], refs)
			if err != nil {
				failed = i
				return err
			}
			results[i] = res
		}
		if err := tx.flush(ctx); err != nil {
			return err
		}
		// Every entry's AuditEvent, and the Bundle's, commit with its writes.
		var evs []audit.Event
		if whole {
			evs = append(evs, e.event(p, "transaction", nil))
		}
		for i, res := range results {
			evs = append(evs, e.entryEvent(p, entries[i], res, nil))
		}
		return e.auditIn(ctx, stx, evs...)
	})
	if err != nil {
		return nil, failed, err
	}
	return results, -1, nil
}

// Batch performs each entry on its own, in its own database transaction;
// an entry's failure is reported in its result and the others still apply.
func (e *Engine) Batch(ctx context.Context, p Principal, entries []BundleEntry) ([]EntryResult, error) {
	if err := e.checkBundleSize(p, len(entries)); err != nil {
		return nil, e.commitAudit(ctx, p, err, e.event(p, "batch", err))
	}
	results := make([]EntryResult, len(entries))
	var failures []audit.Event
	for i, en := range entries {
		res, _, err := e.transaction(ctx, p, []BundleEntry{en}, false)
		if err != nil {
			results[i] = EntryResult{Method: strings.ToUpper(en.Method), Err: err}
			failures = append(failures, e.entryEvent(p, en, results[i], err))
			continue
		}
		results[i] = res[0]
	}
	return results, e.commitAudit(ctx, p, nil, append(failures, e.event(p, "batch", nil))...)
}

// entryEvent describes what one Bundle entry did, or tried to do.
func (e *Engine) entryEvent(p Principal, en BundleEntry, res EntryResult, err error) audit.Event {
	t, _ := parseEntryURL(en.URL)
	refs := res.Touched
	if len(refs) == 0 && t.ID != "" {
		refs = []Ref{{Type: t.Type, ID: t.ID, Version: t.Version}}
	}
	method := strings.ToUpper(strings.TrimSpace(en.Method))
	if (method == http.MethodGet || method == http.MethodHead) && t.ID == "" {
		ev := e.event(p, "search-type", err)
		ev.Query = t.Type + "?" + t.Query
		return ev
	}
	ev := e.event(p, entryInteraction(method, res.Result, t.Version), err, refs...)
	return withPatients(ev, res.Record)
}

func (e *Engine) checkBundleSize(p Principal, n int) error {
	if _, err := tenantOf(p); err != nil {
		return err
	}
	if n > e.cfg.MaxBundleEntries {
		return fhir.Errorf(fhir.KindTooLarge, "a Bundle may hold at most %d entries; this one has %d", e.cfg.MaxBundleEntries, n)
	}
	return nil
}

// entryPlan is an entry with its request parsed and, once resolved, the id
// it acts on.
type entryPlan struct {
	BundleEntry
	target   entryTarget
	ifMatch  int64
	id       string    // the resource the entry acts on, once known
	matched  *Result   // a conditional create that found its resource
	prepared *prepared // a create's body rewritten and validated ahead (bundleprep.go)
	noop     bool      // a conditional delete that matched nothing
}

// plan parses and checks an entry without touching the store.
func (e *Engine) plan(p Principal, en BundleEntry) (*entryPlan, error) {
	en.Method = strings.ToUpper(strings.TrimSpace(en.Method))
	t, err := parseEntryURL(en.URL)
	if err != nil {
		return nil, err
	}
	ifMatch, err := fhir.ParseVersionETag(en.IfMatch)
	if err != nil {
		return nil, err
	}
	pl := &entryPlan{BundleEntry: en, target: t, ifMatch: ifMatch, id: t.ID}
	needsBody := en.Method == http.MethodPost || en.Method == http.MethodPut || en.Method == http.MethodPatch
	if needsBody && len(en.Resource) == 0 {
		return nil, fhir.Errorf(fhir.KindInvalid, "a %s entry needs a resource", en.Method)
	}
	switch en.Method {
	case http.MethodPost:
		if t.ID != "" || t.Query != "" {
			return nil, fhir.Errorf(fhir.KindInvalid, "POST goes to a type, not %q", en.URL)
		}
		pl.id = e.newID()
		return pl, e.checkCreate(p, t.Type, CreateOptions{IfNoneExist: en.IfNoneExist})
	case http.MethodPut, http.MethodDelete, http.MethodPatch:
		if t.Version != 0 || (t.ID == "" && t.Query == "") {
			return nil, fhir.Errorf(fhir.KindInvalid, "%s needs Type/id or Type?criteria, not %q", en.Method, en.URL)
		}
		return pl, nil
	case http.MethodGet, http.MethodHead:
		if t.ID == "" && t.Type == "" {
			return nil, fhir.Errorf(fhir.KindNotSupported, "system-level search entries (%q) are not supported; name a type", en.URL)
		}
		return pl, nil
	}
	return nil, fhir.Errorf(fhir.KindInvalid, "request.method %q is not one of GET, HEAD, POST, PUT, PATCH, DELETE", en.Method)
}

// resolveIdentities settles which resource each entry acts on and returns
// the map from fullUrl to Type/id for reference rewriting. Two entries that
// change the same resource fail the transaction.
func (e *Engine) resolveIdentities(ctx context.Context, tx store.Tx, p Principal, plans []*entryPlan) (map[string]string, int, error) {
	refs := map[string]string{}
	changed := map[string]int{}
	for i, pl := range plans {
		t := pl.target
		switch {
		case pl.Method == http.MethodPost && pl.IfNoneExist != "":
			found, done, err := e.existing(ctx, tx, p, t.Type, pl.IfNoneExist)
			if err != nil {
				return nil, i, err
			}
			if done {
				pl.id, pl.matched = found.Record.ID, &found
			}
		case t.Query != "" && pl.Method != http.MethodGet && pl.Method != http.MethodHead:
			ids, err := e.match(ctx, tx, p, t.Type, t.Query)
			if err != nil {
				return nil, i, err
			}
			switch {
			case len(ids) == 1:
				pl.id = ids[0]
			case len(ids) > 1:
				return nil, i, fhir.Errorf(fhir.KindPreconditionFailed,
					"conditional %s matched more than one %s", pl.Method, t.Type)
			case pl.Method == http.MethodPut:
				pl.id = e.newID()
			default:
				pl.noop = true
			}
		}
		if pl.id == "" || pl.Method == http.MethodGet || pl.Method == http.MethodHead {
			continue
		}
		ref := t.Type + "/" + pl.id
		if j, dup := changed[ref]; dup && pl.matched == nil {
			return nil, i, fhir.Errorf(fhir.KindInvalid, "entries %d and %d both change %s", j, i, ref)
		}
		changed[ref] = i
		if pl.FullURL != "" {
			refs[pl.FullURL] = ref
		}
	}
	return refs, -1, nil
}

// processingOrder lists entry indexes in the order the specification
// prescribes: DELETE, POST, PUT and PATCH, then GET and HEAD.
func processingOrder(plans []*entryPlan) []int {
	rank := map[string]int{http.MethodDelete: 0, http.MethodPost: 1, http.MethodPut: 2, http.MethodPatch: 2, http.MethodGet: 3, http.MethodHead: 3}
	order := make([]int, 0, len(plans))
	for r := 0; r <= 3; r++ {
		for i, pl := range plans {
			if rank[pl.Method] == r {
				order = append(order, i)
			}
		}
	}
	return order
}

// applyEntry performs one planned entry inside the transaction.
func (e *Engine) applyEntry(ctx context.Context, tx *batchingTx, p Principal, pl *entryPlan, refs map[string]string) (EntryResult, error) {
	out := EntryResult{Method: pl.Method}
	t := pl.target
	if pre := pl.prepared; pre != nil {
		if pre.err != nil {
			return out, pre.err
		}
		var err error
		out.Result, err = e.createIn(ctx, tx, p, t.Type, pl.id, pre.d, CreateOptions{})
		return out, err
	}
	body, err := e.rewrite(ctx, tx, p, pl.Resource, refs)
	if err != nil {
		return out, err
	}
	switch pl.Method {
	case http.MethodPost:
		if pl.matched != nil {
			out.Result = *pl.matched
			return out, nil
		}
		obj, err := fhir.ParseObject(body)
		if err != nil {
			return out, err
		}
		d, err := e.prepareCreate(p, t.Type, pl.id, obj)
		if err != nil {
			return out, err
		}
		out.Result, err = e.createIn(ctx, tx, p, t.Type, pl.id, d, CreateOptions{})
		return out, err
	case http.MethodPut:
		if t.Query != "" {
			if body, err = withID(body, pl.id); err != nil {
				return out, err
			}
		}
		next, err := e.prepareUpdate(p, t.Type, pl.id, body)
		if err != nil {
			return out, err
		}
		next = e.guardWrite(ctx, p, "update", t.Type, pl.id, next)
		out.Result, err = e.writeVersionIn(ctx, tx, t.Type, pl.id, pl.ifMatch, next)
		return out, err
	case http.MethodPatch:
		patch, err := patchFromBinary(body)
		if err != nil {
			return out, err
		}
		next, err := e.preparePatch(p, t.Type, pl.id, patch)
		if err != nil {
			return out, err
		}
		next = e.guardWrite(ctx, p, "patch", t.Type, pl.id, next)
		out.Result, err = e.writeVersionIn(ctx, tx, t.Type, pl.id, pl.ifMatch, next)
		return out, err
	case http.MethodDelete:
		if pl.noop {
			out.NoOp = true
			return out, nil
		}
		if err := target(p, t.Type, pl.id, scope.Delete); err != nil {
			return out, err
		}
		if err := checkCompartmentOf(ctx, tx, p, t.Type, pl.id, scope.Delete); err != nil {
			return out, err
		}
		out.Result, err = e.deleteIn(ctx, tx, p, t.Type, pl.id, pl.ifMatch)
		return out, err
	default: // GET, HEAD
		if t.ID == "" {
			// A search entry: inside the transaction, after its writes.
			req := SearchRequest{Type: t.Type, Query: t.Query}
			res, err := e.search(ctx, p, "search-type", req, tx)
			out.Search = &EntrySearch{Request: req, Result: res}
			return out, err
		}
		out.Result, err = e.readIn(ctx, tx, p, t.Type, t.ID, t.Version)
		if err == nil {
			out.NotModified = notModified(out.Record, pl.IfNoneMatch, pl.IfModifiedSince)
		}
		return out, err
	}
}

// rewrite points references at the resources the Bundle's entries resolved
// to, and resolves conditional references by search.
func (e *Engine) rewrite(ctx context.Context, tx store.Tx, p Principal, body []byte, refs map[string]string) ([]byte, error) {
	if body == nil {
		return nil, nil
	}
	out, _, err := fhir.RewriteReferences(body, func(ref string) (string, bool, error) {
		if r, ok := refs[ref]; ok {
			return r, true, nil
		}
		typ, query, ok := conditionalReference(ref)
		if !ok {
			return "", false, nil
		}
		ids, err := e.match(ctx, tx, p, typ, query)
		if err != nil {
			return "", false, err
		}
		if len(ids) != 1 {
			return "", false, fhir.Errorf(fhir.KindPreconditionFailed,
				"conditional reference %q matched %d resources; it must match exactly one", ref, len(ids))
		}
		return typ + "/" + ids[0], true, nil
	})
	return out, err
}

// notModified applies a GET entry's ifNoneMatch and ifModifiedSince.
func notModified(rec store.Record, ifNoneMatch, ifModifiedSince string) bool {
	if ifNoneMatch != "" {
		v, err := fhir.ParseVersionETag(ifNoneMatch)
		return err == nil && v == rec.Version
	}
	if ifModifiedSince != "" {
		for _, layout := range []string{time.RFC3339Nano, http.TimeFormat} {
			if t, err := time.Parse(layout, ifModifiedSince); err == nil {
				return !rec.LastUpdated.After(t)
			}
		}
	}
	return false
}

// entryError names the entry a transaction failed on, in the message and in
// FHIRPath expressions (Bundle.entry[i].resource…).
func entryError(i int, err error) error {
	fe, ok := err.(*fhir.Error)
	if !ok {
		return &fhir.Error{Kind: fhir.KindOf(err), Op: "engine.Transaction", Message: fmt.Sprintf("entry %d failed", i), Cause: err}
	}
	c := *fe
	c.Message = fmt.Sprintf("entry %d: %s", i, fe.Message)
	c.Expression = entryExpression(i, fe.Expression)
	c.Issues = nil
	for _, is := range fe.Issues {
		is.Diagnostics = fmt.Sprintf("entry %d: %s", i, is.Diagnostics)
		var exprs []string
		for _, x := range is.Expression {
			exprs = append(exprs, entryExpression(i, x))
		}
		is.Expression = exprs
		c.Issues = append(c.Issues, is)
	}
	return &c
}

// entryExpression moves an expression about a resource (Patient.name[0], or
// a bare element such as id) under its Bundle entry.
func entryExpression(i int, expr string) string {
	if expr == "" {
		return ""
	}
	base := fmt.Sprintf("Bundle.entry[%d].resource", i)
	first, rest, _ := strings.Cut(expr, ".")
	if fhir.IsResourceType(strings.SplitN(first, "[", 2)[0]) {
		if rest == "" {
			return base
		}
		return base + "." + rest
	}
	return base + "." + expr
}
