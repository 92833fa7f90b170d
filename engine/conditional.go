package engine

import (
	"context"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// matchLimit bounds how many matches a conditional interaction looks at: it
// only needs to tell none, one and several apart.
const matchLimit = 2

// match resolves a conditional query (If-None-Exist, conditional update and
// delete) to the ids of at most matchLimit current resources, with the full
// search syntax, inside tx so that it sees the transaction's writes.
// Unknown parameters are refused rather than ignored (strict handling):
// ignoring a criterion would match too much, and a conditional write would
// then touch the wrong resource.
func (e *Engine) match(ctx context.Context, tx store.Tx, typ, query string) ([]string, error) {
	q, err := e.registry.Parse(typ, strings.TrimPrefix(query, "?"), search.ParseOptions{
		Base: e.cfg.BaseURL, Now: e.now(), Strict: true,
	})
	if err != nil {
		return nil, err
	}
	if len(q.Criteria) == 0 {
		return nil, fhir.Errorf(fhir.KindInvalid, "conditional query has no criteria")
	}
	page, err := tx.Search(ctx, store.SearchQuery{
		Types: []string{typ}, Where: q.Criteria, Count: matchLimit, IDsOnly: true,
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
