package engine

import (
	"net/url"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/store"
)

// policyConstraints turns the access policy's search constraints into store
// constraints for the types a query can select: a type without a grant is
// denied, a grant's clauses become criteria (a clause, which holds when any
// of its matches holds, becomes one Any criterion). The store compiles them
// into the search's SQL, so counts, pages, chains, _has and includes only
// ever see what the caller may read.
func (e *Engine) policyConstraints(cs policy.Constraints, types []string) ([]store.Constraint, error) {
	var out []store.Constraint
	for _, t := range types {
		c, ok := cs.For(t)
		if !ok {
			out = append(out, store.Constraint{Type: t, Deny: true})
			continue
		}
		if len(c.All) == 0 {
			continue
		}
		sc := store.Constraint{Type: t}
		for _, clause := range c.All {
			var any []search.Criterion
			for _, m := range clause {
				crit, err := e.policyCriterion(t, m)
				if err != nil {
					return nil, err
				}
				any = append(any, crit)
			}
			sc.Where = append(sc.Where, search.Criterion{Any: any})
		}
		out = append(out, sc)
	}
	return out, nil
}

// policyCriterion parses one policy match, Param=v1,v2 on typ.
func (e *Engine) policyCriterion(typ string, m policy.Match) (search.Criterion, error) {
	c, err := e.criterion(typ, m.Param, m.Values)
	if err != nil {
		// A policy naming a parameter the type does not have is a bug in
		// the policy, not in the request.
		return search.Criterion{}, &fhir.Error{Kind: fhir.KindInternal, Op: "engine.policy",
			Message: "the access policy's search constraint on " + typ + " is invalid", Cause: err}
	}
	return c, nil
}

// criterion parses the search criterion param=v1,v2 on typ; values are
// taken literally (commas and backslashes in them escaped).
func (e *Engine) criterion(typ, param string, values []string) (search.Criterion, error) {
	vals := make([]string, len(values))
	for i, v := range values {
		vals[i] = strings.NewReplacer(`\`, `\\`, `,`, `\,`).Replace(v)
	}
	return e.queryCriterion(typ, param, strings.Join(vals, ","))
}

// queryCriterion parses param=value on typ, value in search syntax (commas
// separate alternatives).
func (e *Engine) queryCriterion(typ, param, value string) (search.Criterion, error) {
	q, err := e.registry.Parse(typ, param+"="+url.QueryEscape(value), search.ParseOptions{
		Base: e.cfg.BaseURL, Now: e.now(), Strict: true,
	})
	if err == nil && len(q.Criteria) != 1 {
		err = fhir.Errorf(fhir.KindInvalid, "no criterion")
	}
	if err != nil {
		return search.Criterion{}, err
	}
	return q.Criteria[0], nil
}

// reachableTypes lists the resource types a query can select: the searched
// ones, those its chains and _has go through, and those its includes can
// add (every type for `*` and untyped revincludes).
func reachableTypes(q *search.Query) []string {
	if len(q.Types) == 0 {
		return fhir.ResourceTypes()
	}
	seen := map[string]bool{}
	var out []string
	add := func(ts ...string) {
		for _, t := range ts {
			if !seen[t] && fhir.IsResourceType(t) {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	add(q.Types...)
	var walk func(c *search.Criterion)
	walk = func(c *search.Criterion) {
		switch {
		case c.Chain != nil:
			add(c.Chain.Types...)
			walk(&c.Chain.Where)
		case c.Has != nil:
			add(c.Has.Type)
			walk(&c.Has.Where)
		}
	}
	for i := range q.Criteria {
		walk(&q.Criteria[i])
	}
	for _, inc := range q.Include {
		switch {
		case inc.Reverse && inc.Source != "":
			add(inc.Source)
		case !inc.Reverse && inc.TargetType != "":
			add(inc.TargetType)
		case !inc.Reverse && inc.Param != nil && len(inc.Param.Targets) > 0 && inc.Param.Targets[0] != "Resource":
			add(inc.Param.Targets...)
		default:
			return fhir.ResourceTypes()
		}
	}
	return out
}
