package policy

import (
	"fmt"
	"slices"
	"sort"
)

// maxClauses bounds the clauses a search constraint may expand to. Several
// restricted grants on one type combine by distribution (an OR of ANDs
// becomes an AND of ORs), which multiplies their clause counts.
const maxClauses = 64

// decisionOf reads the policy's answer, refusing any other shape: a
// malformed answer must not be mistaken for a permission.
func decisionOf(v any) (Decision, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Decision{}, fmt.Errorf("policy: decision is %T, not an object", v)
	}
	var d Decision
	if d.Allow, ok = obj["allow"].(bool); !ok {
		return Decision{}, fmt.Errorf("policy: decision.allow is not a boolean")
	}
	if d.Reason, ok = obj["reason"].(string); !ok {
		return Decision{}, fmt.Errorf("policy: decision.reason is not a string")
	}
	var err error
	if d.HiddenFields, err = stringList(obj["hidden_fields"], "hidden_fields"); err != nil {
		return Decision{}, err
	}
	if d.ReadOnlyFields, err = stringList(obj["read_only_fields"], "read_only_fields"); err != nil {
		return Decision{}, err
	}
	grants, err := grantsOf(obj["search_grants"])
	if err != nil {
		return Decision{}, err
	}
	if d.SearchConstraints, err = constraintsOf(grants); err != nil {
		return Decision{}, err
	}
	return d, nil
}

func stringList(v any, what string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy: decision.%s is not an array", what)
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("policy: decision.%s holds a %T", what, x)
		}
		out = append(out, s)
	}
	return out, nil
}

// grant is one search grant of the policy: a type and its where clauses.
type grant struct {
	typ   string
	where []Clause
}

func grantsOf(v any) ([]grant, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy: decision.search_grants is not an array")
	}
	out := make([]grant, 0, len(list))
	for _, x := range list {
		g, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("policy: a search grant is %T", x)
		}
		typ, ok := g["type"].(string)
		if !ok || typ == "" {
			return nil, fmt.Errorf("policy: a search grant has no type")
		}
		where, err := clausesOf(g["where"])
		if err != nil {
			return nil, fmt.Errorf("policy: search grant on %s: %w", typ, err)
		}
		out = append(out, grant{typ: typ, where: where})
	}
	return out, nil
}

func clausesOf(v any) ([]Clause, error) {
	list, ok := v.([]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("where is not an array")
	}
	out := make([]Clause, 0, len(list))
	for _, c := range list {
		ms, ok := c.([]any)
		if !ok || len(ms) == 0 {
			return nil, fmt.Errorf("a clause is not a non-empty array")
		}
		clause := make(Clause, 0, len(ms))
		for _, m := range ms {
			mo, ok := m.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("a match is not an object")
			}
			param, ok := mo["param"].(string)
			if !ok || param == "" {
				return nil, fmt.Errorf("a match has no param")
			}
			values, err := stringList(mo["values"], "values")
			if err != nil || len(values) == 0 {
				return nil, fmt.Errorf("match on %s has no values", param)
			}
			clause = append(clause, Match{Param: param, Values: values})
		}
		out = append(out, normalise(clause))
	}
	return out, nil
}

// constraintsOf combines grants per type: any unrestricted grant leaves the
// type unrestricted; otherwise the type may be selected where one of its
// grants' where holds. Grants on "*" count for every type.
func constraintsOf(grants []grant) (Constraints, error) {
	if len(grants) == 0 {
		return nil, nil
	}
	byType := map[string][]grant{}
	var star []grant
	for _, g := range grants {
		if g.typ == "*" {
			star = append(star, g)
			continue
		}
		byType[g.typ] = append(byType[g.typ], g)
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	var out Constraints
	for _, t := range types {
		all, err := anyOf(append(byType[t], star...))
		if err != nil {
			return nil, fmt.Errorf("policy: search constraint on %s: %w", t, err)
		}
		out = append(out, Constraint{Type: t, All: all})
	}
	if len(star) > 0 {
		all, err := anyOf(star)
		if err != nil {
			return nil, fmt.Errorf("policy: search constraint on every type: %w", err)
		}
		out = append(out, Constraint{Type: "*", All: all})
	}
	return out, nil
}

// anyOf returns the clauses (AND of ORs) that hold exactly when the where
// of at least one grant holds.
func anyOf(grants []grant) ([]Clause, error) {
	for _, g := range grants {
		if len(g.where) == 0 {
			return nil, nil // unrestricted
		}
	}
	all := grants[0].where
	for _, g := range grants[1:] {
		if len(all)*len(g.where) > maxClauses {
			return nil, fmt.Errorf("grants combine into more than %d clauses", maxClauses)
		}
		// (A1 ∧ A2) ∨ (B1 ∧ B2) = (A1∨B1) ∧ (A1∨B2) ∧ (A2∨B1) ∧ (A2∨B2)
		next := make([]Clause, 0, len(all)*len(g.where))
		for _, a := range all {
			for _, b := range g.where {
				next = append(next, normalise(append(slices.Clone(a), b...)))
			}
		}
		all = dedupeClauses(next)
	}
	return all, nil
}

// normalise merges matches on one parameter and sorts them, so equal
// clauses compare equal and the SQL gets one condition per parameter.
func normalise(c Clause) Clause {
	byParam := map[string][]string{}
	for _, m := range c {
		byParam[m.Param] = append(byParam[m.Param], m.Values...)
	}
	out := make(Clause, 0, len(byParam))
	for param, values := range byParam {
		sort.Strings(values)
		out = append(out, Match{Param: param, Values: slices.Compact(values)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Param < out[j].Param })
	return out
}

func dedupeClauses(cs []Clause) []Clause {
	var out []Clause
	for _, c := range cs {
		if !slices.ContainsFunc(out, func(o Clause) bool { return clauseEqual(o, c) }) {
			out = append(out, c)
		}
	}
	return out
}

func clauseEqual(a, b Clause) bool {
	return slices.EqualFunc(a, b, func(x, y Match) bool {
		return x.Param == y.Param && slices.Equal(x.Values, y.Values)
	})
}
