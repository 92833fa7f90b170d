package engine

import (
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/store"
)

// AuditEvents live in the audit log, not among the resources, so a search
// of them runs on the log's own index (store.AuditLog.SearchAudit, built by
// audit.Index) after the same scope and policy checks as every search. It answers the parameters
// below, _count, _sort on date and paging; anything else is refused, since
// an ignored parameter would widen what an auditor believes they asked.

// auditParams are the AuditEvent parameters the audit log answers, with
// the modifiers each accepts besides none.
var auditParams = map[string][]search.Modifier{
	"date":             nil,
	audit.ParamAgent:   {search.ModType, search.ModIdentifier},
	audit.ParamEntity:  {search.ModType},
	audit.ParamPatient: nil,
	audit.ParamSource:  {search.ModType},
	audit.ParamType:    nil,
	audit.ParamSubtype: nil,
	audit.ParamOutcome: nil,
}

// searchAudit runs a type-level AuditEvent search that p has been allowed
// (d is the policy's decision).
func (e *Engine) searchAudit(ctx context.Context, p Principal, q *search.Query, d policy.Decision) (SearchResult, error) {
	log, ok := e.store.(store.AuditLog)
	if !ok {
		return SearchResult{}, fhir.Errorf(fhir.KindNotSupported, "this server keeps no audit log to search")
	}
	if err := auditQueryShape(q); err != nil {
		return SearchResult{}, err
	}
	aq := store.AuditSearch{Count: e.cfg.DefaultSearchCount}
	if q.Count >= 0 {
		aq.Count = min(q.Count, e.cfg.MaxSearchCount)
	}
	for _, k := range q.Sort {
		// auditQueryShape let only one key on date through.
		aq.Oldest = !k.Desc
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return SearchResult{}, err
		}
		if aq.After, err = auditPosition(c); err != nil {
			return SearchResult{}, err
		}
	}
	for _, c := range q.Criteria {
		if err := e.addAuditCriterion(&aq, c); err != nil {
			return SearchResult{}, err
		}
	}
	cons, err := e.policyConstraints(d.SearchConstraints, []string{auditType})
	if err != nil {
		return SearchResult{}, err
	}
	for _, c := range cons {
		if c.Deny {
			return auditResult(q, store.AuditPage{}, aq.Count), nil
		}
		for _, crit := range c.Where {
			if err := e.addAuditCriterion(&aq, crit); err != nil {
				return SearchResult{}, &fhir.Error{Kind: fhir.KindInternal, Op: "engine.policy",
					Message: "the access policy's search constraint on AuditEvent is invalid", Cause: err}
			}
		}
	}
	if e.cfg.SearchTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.SearchTimeout)
		defer cancel()
	}
	// The index follows the log a little behind (a background job keeps it
	// close); what is left is indexed first, so the search sees every
	// AuditEvent committed before it.
	if _, err := audit.Index(ctx, log, p.Tenant, e.cfg.BaseURL); err != nil {
		return SearchResult{}, err
	}
	page, err := log.SearchAudit(ctx, p.Tenant, aq)
	if err != nil {
		return SearchResult{}, err
	}
	for i := range page.Entries {
		page.Entries[i].Body = redact(page.Entries[i].Body, auditType, d.HiddenFields)
	}
	return auditResult(q, page, aq.Count), nil
}

// auditResult shapes a page of the audit log as a search result; there is
// no total and no previous page.
func auditResult(q *search.Query, page store.AuditPage, count int) SearchResult {
	res := SearchResult{Query: q, Count: count, Page: store.SearchPage{Total: -1}}
	for _, en := range page.Entries {
		res.Page.Records = append(res.Page.Records, store.Record{Type: auditType, ID: en.ID, Version: 1,
			LastUpdated: en.Recorded, Body: en.Body})
	}
	if page.Next != nil {
		res.Next = encodeCursor(&store.Cursor{Type: auditType, ID: strconv.FormatInt(page.Next.Seq, 10),
			Keys: []any{page.Next.Recorded}})
	}
	return res
}

// auditPosition reads the position an AuditEvent page link carries.
func auditPosition(c *store.Cursor) (*store.AuditPosition, error) {
	seq, err := strconv.ParseInt(c.ID, 10, 64)
	if c.Type != auditType || c.Backward || len(c.Keys) != 1 || err != nil {
		return nil, store.ErrBadCursor
	}
	recorded, ok := c.Keys[0].(int64)
	if !ok {
		return nil, store.ErrBadCursor
	}
	return &store.AuditPosition{Recorded: recorded, Seq: seq}, nil
}

// auditQueryShape refuses what an AuditEvent search cannot answer.
func auditQueryShape(q *search.Query) error {
	unsupported := func(name string) error {
		return fhir.Errorf(fhir.KindInvalid, "%s is not supported in AuditEvent searches", name).At(name)
	}
	switch {
	case len(q.Include) > 0:
		return unsupported("_include")
	case q.Summary != search.SummaryNone:
		return unsupported("_summary")
	case len(q.Elements) > 0:
		return unsupported("_elements")
	case q.Total != search.TotalDefault && q.Total != search.TotalNone:
		return unsupported("_total")
	case len(q.Sort) > 1 || len(q.Sort) == 1 && (q.Sort[0].Param == nil || q.Sort[0].Param.Code != "date"):
		return fhir.Errorf(fhir.KindInvalid, "AuditEvents sort by date or -date only").At("_sort")
	}
	for _, c := range q.Criteria {
		if c.Has != nil {
			return unsupported("_has")
		}
		name := c.Param.Code
		mods, ok := auditParams[name]
		switch {
		case !ok:
			return fhir.Errorf(fhir.KindInvalid, "AuditEvents are searched by date, agent, entity, patient, type, subtype, outcome and source; not by %s", name).At(name)
		case c.Chain != nil:
			return fhir.Errorf(fhir.KindInvalid, "chained parameters are not supported in AuditEvent searches").At(name)
		case c.Modifier != search.ModNone && !slices.Contains(mods, c.Modifier):
			return fhir.Errorf(fhir.KindInvalid, "modifier :%s is not supported on AuditEvent parameter %s", c.Modifier, name).At(name)
		}
	}
	return nil
}

// addAuditCriterion adds one criterion to an audit search: date to the
// time conditions, the others to the index conditions. A criterion from
// the access policy may be an any-of over several parameters.
func (e *Engine) addAuditCriterion(aq *store.AuditSearch, c search.Criterion) error {
	if c.Param != nil && c.Param.Code == "date" {
		w, err := auditWhen(c)
		if err != nil {
			return err
		}
		aq.When = append(aq.When, w)
		return nil
	}
	cond, err := e.auditCondition(c)
	if err != nil {
		return err
	}
	aq.Where = append(aq.Where, cond)
	return nil
}

// auditWhen turns date values into ranges of the recorded time, a point:
// the R4 prefixes compare the value's range with that point.
func auditWhen(c search.Criterion) (store.AuditWhen, error) {
	if c.Modifier != search.ModNone {
		return nil, fhir.Errorf(fhir.KindInvalid, "date takes no modifier on AuditEvent").At("date")
	}
	var w store.AuditWhen
	for _, v := range c.Values {
		d, ok := v.(search.DateValue)
		if !ok {
			return nil, fhir.Errorf(fhir.KindInvalid, "date needs a date value").At("date")
		}
		r := store.AuditTimeRange{Low: d.Low, High: d.High}
		switch d.Prefix {
		case search.PrefixNE:
			r.Outside = true
		case search.PrefixGT, search.PrefixSA:
			r = store.AuditTimeRange{Low: saturatingAdd(d.High, 1), High: math.MaxInt64}
		case search.PrefixLT, search.PrefixEB:
			r = store.AuditTimeRange{Low: math.MinInt64, High: saturatingAdd(d.Low, -1)}
		case search.PrefixGE:
			r.High = math.MaxInt64
		case search.PrefixLE:
			r.Low = math.MinInt64
		}
		w = append(w, r)
	}
	return w, nil
}

func saturatingAdd(v, d int64) int64 {
	switch {
	case d > 0 && v > math.MaxInt64-d:
		return math.MaxInt64
	case d < 0 && v < math.MinInt64-d:
		return math.MinInt64
	}
	return v + d
}

// auditCondition turns a reference or token criterion into index matches.
// A reference naming one type matches that type's id; an id alone matches
// any type; a URL matches a reference that is not local.
func (e *Engine) auditCondition(c search.Criterion) (store.AuditCondition, error) {
	if len(c.Any) > 0 {
		var out store.AuditCondition
		for _, sub := range c.Any {
			m, err := e.auditCondition(sub)
			if err != nil {
				return nil, err
			}
			out = append(out, m...)
		}
		return out, nil
	}
	if c.Param == nil || c.Missing || c.Modifier == search.ModMissing {
		return nil, fhir.Errorf(fhir.KindInvalid, ":missing is not supported in AuditEvent searches")
	}
	name := c.Param.Code
	if _, ok := auditParams[name]; !ok || name == "date" {
		return nil, fhir.Errorf(fhir.KindInvalid, "AuditEvents cannot be searched by %s here", name).At(name)
	}
	if e.auditParamEncrypted(name) {
		return nil, fhir.Errorf(fhir.KindInvalid,
			"%s reads an encrypted element of AuditEvent and cannot be searched", name).At(name)
	}
	params := []string{name}
	switch {
	case c.Modifier == search.ModIdentifier:
		params = []string{audit.ParamAgentIdentifier}
	case name == audit.ParamPatient:
		// An agent or an entity that is a Patient (the values are
		// of type Patient: the parameter targets nothing else).
		params = []string{audit.ParamAgent, audit.ParamEntity}
	}
	var out store.AuditCondition
	for _, v := range c.Values {
		m := store.AuditMatch{}
		switch x := v.(type) {
		case search.TokenValue:
			m.Value = x.Code
			if x.HasSystem {
				m.Systems = []string{x.System}
			}
		case search.ReferenceValue:
			switch {
			case x.URL != "":
				m.Systems, m.Value = []string{""}, x.URL
			case len(x.Types) == 1:
				m.Systems, m.Value = x.Types, x.ID
			default:
				m.Value = x.ID
			}
		default:
			return nil, fhir.Errorf(fhir.KindInvalid, "unexpected value for %s", name).At(name)
		}
		for _, p := range params {
			m.Param = p
			out = append(out, m)
		}
	}
	return out, nil
}

// auditParamEncrypted reports whether field encryption covers the element
// an AuditEvent index parameter reads; such values are not indexed.
func (e *Engine) auditParamEncrypted(param string) bool {
	s, ok := e.store.(*sealedStore)
	return ok && s.auditParamEncrypted(param)
}
