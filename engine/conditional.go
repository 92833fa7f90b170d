package engine

import (
	"context"
	"net/url"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// matchLimit bounds how many matches a conditional interaction looks at: it
// only needs to tell none, one and several apart.
const matchLimit = 2

// match resolves a conditional query (If-None-Exist and the like) to the ids
// of current resources. Until full search lands it understands `_id` and
// `identifier`; anything else is refused rather than silently ignored, since
// ignoring a criterion would match too much.
func match(ctx context.Context, tx store.Tx, typ, query string) ([]string, error) {
	values, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		return nil, fhir.Errorf(fhir.KindInvalid, "conditional query is not a valid query string")
	}
	if len(values) == 0 {
		return nil, fhir.Errorf(fhir.KindInvalid, "conditional query has no criteria")
	}
	var ids []string
	first := true
	narrow := func(found []string) {
		if first {
			ids, first = found, false
			return
		}
		ids = intersect(ids, found)
	}
	for name, vals := range values {
		for _, v := range vals {
			var found []string
			switch name {
			case "_id":
				found, err = matchID(ctx, tx, typ, v)
			case "identifier":
				found, err = matchIdentifier(ctx, tx, typ, v)
			default:
				return nil, fhir.Errorf(fhir.KindInvalid,
					"conditional criteria support _id and identifier; %q is not supported yet", name)
			}
			if err != nil {
				return nil, err
			}
			narrow(found)
		}
	}
	return ids, nil
}

func matchID(ctx context.Context, tx store.Tx, typ, id string) ([]string, error) {
	rec, err := tx.Read(ctx, typ, id)
	if fhir.IsKind(err, fhir.KindNotFound) || (err == nil && rec.Deleted) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return []string{id}, nil
}

func matchIdentifier(ctx context.Context, tx store.Tx, typ, value string) ([]string, error) {
	q := store.TokenQuery{Type: typ, Param: "identifier", Limit: matchLimit}
	if sys, code, ok := strings.Cut(value, "|"); ok {
		q.System, q.Code = sys, code
	} else {
		q.AnySystem, q.Code = true, value
	}
	if q.Code == "" {
		return nil, fhir.Errorf(fhir.KindInvalid, "identifier criterion needs a value").At("identifier")
	}
	return tx.FindTokens(ctx, q)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}
