package engine

import (
	"context"
	"strings"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// matchLimit bounds how many matches a conditional interaction looks at: it
// only needs to tell none, one and several apart.
const matchLimit = 2

// match resolves a conditional query (If-None-Exist, conditional update and
// delete, conditional references) to the ids of at most matchLimit current
// resources, with the full search syntax, inside tx so that it sees the
// transaction's writes. It sees what a search by p would: resources the
// access policy hides from p do not match, so a conditional interaction
// cannot probe for them. Unknown parameters are refused rather than ignored
// (strict handling): ignoring a criterion would match too much, and a
// conditional write would then touch the wrong resource.
func (e *Engine) match(ctx context.Context, tx store.Tx, p Principal, typ, query string) ([]string, error) {
	q, err := e.registry.Parse(typ, strings.TrimPrefix(query, "?"), search.ParseOptions{
		Base: e.cfg.BaseURL, Now: e.now(), Strict: true,
	})
	if err != nil {
		return nil, err
	}
	if len(q.Criteria) == 0 {
		return nil, fhir.Errorf(fhir.KindInvalid, "conditional query has no criteria")
	}
	d, err := e.decide(ctx, p, "search-type", typ, "", nil, nil)
	if err != nil {
		return nil, err
	}
	cons, err := e.policyConstraints(d.SearchConstraints, reachableTypes(q))
	if err != nil {
		return nil, err
	}
	page, err := tx.Search(ctx, store.SearchQuery{
		Types: q.Types, Where: q.Criteria, Count: matchLimit, IDsOnly: true,
		Constraints: append(cons, readConstraints(p, q)...),
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(page.Records))
	for i, r := range page.Records {
		ids[i] = r.ID
	}
	return ids, nil
}

// matchOne runs a conditional query in a transaction of its own and
// returns the ids it matches (at most matchLimit).
func (e *Engine) matchOne(ctx context.Context, p Principal, typ, query string) ([]string, error) {
	var ids []string
	err := e.store.Tx(ctx, p.Tenant, func(tx store.Tx) error {
		var err error
		ids, err = e.match(ctx, tx, p, typ, query)
		return err
	})
	return ids, err
}

// ConditionalUpdate updates the one resource that query matches (PUT
// Type?query). With no match it creates the resource: with the id in the
// body, as an update-as-create, or else with a new id. Several matches
// fail with KindPreconditionFailed. The match and the write are separate
// transactions, like two requests: a resource that starts to match in
// between is not seen.
func (e *Engine) ConditionalUpdate(ctx context.Context, p Principal, typ, query string, body []byte, opt UpdateOptions) (Result, error) {
	if err := checkType(typ); err != nil {
		return Result{}, err
	}
	if err := allow(p, typ, scope.Update); err != nil {
		return Result{}, err
	}
	if err := allow(p, typ, scope.Search); err != nil {
		return Result{}, err
	}
	ids, err := e.matchOne(ctx, p, typ, query)
	if err != nil {
		return Result{}, err
	}
	bid, present, err := bodyID(body)
	if err != nil {
		return Result{}, err
	}
	switch len(ids) {
	case 0:
		if present {
			return e.Update(ctx, p, typ, bid, body, opt)
		}
		return e.Create(ctx, p, typ, body, CreateOptions{})
	case 1:
		if present && bid != ids[0] {
			return Result{}, fhir.Errorf(fhir.KindInvalid,
				"id %q in the body is not the id of the resource the criteria match", bid).At("id")
		}
		if !present {
			if body, err = withID(body, ids[0]); err != nil {
				return Result{}, err
			}
		}
		return e.Update(ctx, p, typ, ids[0], body, opt)
	default:
		return Result{}, fhir.Errorf(fhir.KindPreconditionFailed, "the criteria match more than one %s", typ)
	}
}

// ConditionalDelete deletes the one resource that query matches (DELETE
// Type?query); none is a NoOp, several fail with KindPreconditionFailed.
func (e *Engine) ConditionalDelete(ctx context.Context, p Principal, typ, query string) (Result, error) {
	if err := checkType(typ); err != nil {
		return Result{}, err
	}
	if err := allow(p, typ, scope.Delete); err != nil {
		return Result{}, err
	}
	if err := allow(p, typ, scope.Search); err != nil {
		return Result{}, err
	}
	ids, err := e.matchOne(ctx, p, typ, query)
	if err != nil {
		return Result{}, err
	}
	switch len(ids) {
	case 0:
		return Result{NoOp: true}, nil
	case 1:
		return e.Delete(ctx, p, typ, ids[0], UpdateOptions{})
	default:
		return Result{}, fhir.Errorf(fhir.KindPreconditionFailed, "the criteria match more than one %s", typ)
	}
}
