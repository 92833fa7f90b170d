package sqlbase

import (
	"context"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// maxIterations bounds the rounds of _include:iterate: each round follows
// the references of what the previous one added.
const maxIterations = 4

type ref struct{ typ, id string }

// includes resolves q's _include and _revinclude for a page of matches.
// Plain ones start from the matches; :iterate ones also from what was
// included, round after round. Included resources pass the constraints of
// their type like matches do, and each appears once.
func includes(ctx context.Context, db Querier, d Dialect, tenant string, q store.SearchQuery, matches []store.Record) ([]store.Record, error) {
	max := q.MaxInclude
	if max <= 0 {
		max = DefaultMaxInclude
	}
	seen := map[ref]bool{}
	for _, r := range matches {
		seen[ref{r.Type, r.ID}] = true
	}
	var out []store.Record
	from := matches
	for round := 0; round < maxIterations && len(from) > 0 && len(out) < max; round++ {
		var targets []ref
		for _, inc := range q.Include {
			if round > 0 && !inc.Iterate {
				continue
			}
			found, err := includeRefs(ctx, db, d, tenant, inc, from)
			if err != nil {
				return nil, err
			}
			for _, t := range found {
				if !seen[t] {
					seen[t] = true
					targets = append(targets, t)
				}
			}
		}
		recs, err := fetch(ctx, db, d, tenant, q.Constraints, targets, max-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		from = recs
	}
	return out, nil
}

// includeRefs finds what one _include or _revinclude adds for resources.
func includeRefs(ctx context.Context, db Querier, d Dialect, tenant string, inc search.Include, resources []store.Record) ([]ref, error) {
	byType := map[string][]string{}
	for _, r := range resources {
		if inc.Reverse || inc.Source == "" || inc.Source == r.Type {
			byType[r.Type] = append(byType[r.Type], r.ID)
		}
	}
	var out []ref
	for typ, ids := range byType {
		s := newSQLSearch(d.Placeholder, tenant, nil)
		var sql string
		if inc.Reverse {
			sql = "SELECT DISTINCT i.type, i.id FROM reference_idx i WHERE i.tenant_id = " + s.tenant +
				" AND i.target_type = " + s.bind(typ) + " AND i.target_id IN " + s.bindList(ids)
			if inc.Source != "" {
				sql += " AND i.type = " + s.bind(inc.Source)
			}
			if inc.TargetType != "" && inc.TargetType != typ {
				continue
			}
		} else {
			sql = "SELECT DISTINCT i.target_type, i.target_id FROM reference_idx i WHERE i.tenant_id = " + s.tenant +
				" AND i.type = " + s.bind(typ) + " AND i.id IN " + s.bindList(ids) + " AND i.target_type <> ''"
			if inc.TargetType != "" {
				sql += " AND i.target_type = " + s.bind(inc.TargetType)
			}
		}
		if inc.Param != nil {
			sql += " AND i.param = " + s.bind(inc.Param.Code)
		}
		err := db.Query(ctx, sql, s.args, func(sc Scanner) error {
			var r ref
			if err := sc.Scan(&r.typ, &r.id); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
		if err != nil {
			return nil, Wrap("sqlbase.Search", err)
		}
	}
	return out, nil
}

// fetch reads current, non-deleted resources by reference, at most limit,
// leaving out those the constraints hide.
func fetch(ctx context.Context, db Querier, d Dialect, tenant string, cons []store.Constraint, refs []ref, limit int) ([]store.Record, error) {
	byType := map[string][]string{}
	var order []string
	for _, r := range refs {
		if byType[r.typ] == nil {
			order = append(order, r.typ)
		}
		byType[r.typ] = append(byType[r.typ], r.id)
	}
	var out []store.Record
	for _, typ := range order {
		if len(out) >= limit {
			break
		}
		s := newSQLSearch(d.Placeholder, tenant, cons)
		filter := s.resourceFilter("r", []string{typ}, nil)
		sql := "SELECT r.type, r.id, r.version, r.last_updated, r.body FROM resources r WHERE " + filter +
			" AND r.id IN " + s.bindList(byType[typ]) + " ORDER BY r.id"
		if s.err != nil {
			return nil, s.err
		}
		err := db.Query(ctx, sql, s.args, func(sc Scanner) error {
			var r store.Record
			var lastUpdated int64
			if err := sc.Scan(&r.Type, &r.ID, &r.Version, &lastUpdated, &r.Body); err != nil {
				return err
			}
			r.LastUpdated = Time(lastUpdated)
			if len(out) < limit {
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			return nil, Wrap("sqlbase.Search", err)
		}
	}
	return out, nil
}

// IndexRows returns the index rows a write stores: none for a delete, the
// legacy Tokens merged into Index.Tokens, duplicates dropped.
func IndexRows(w store.Write) search.Index {
	if w.Record.Deleted {
		return search.Index{}
	}
	ix := w.Index
	if len(w.Tokens) > 0 {
		ix.Tokens = append([]search.TokenRow(nil), ix.Tokens...)
		for _, t := range UniqueTokens(w) {
			ix.Tokens = append(ix.Tokens, search.TokenRow{Param: t.Param, System: t.System, Code: t.Code})
		}
	}
	ix.Tokens = uniqueRows(ix.Tokens)
	return ix
}

func uniqueRows[T comparable](rows []T) []T {
	seen := make(map[T]bool, len(rows))
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
