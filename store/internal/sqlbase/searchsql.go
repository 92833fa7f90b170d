package sqlbase

import (
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// This file compiles search criteria into SQL over the index tables. Every
// value is a bound parameter; only table and column names, which come from
// this file, are written into the text. A criterion becomes a semi-join:
//
//	r.id IN (SELECT i.id FROM token_idx i WHERE i.tenant_id = $1
//	         AND i.type = $2 AND i.param = $3 AND (i.code = $4 OR …))
//
// chains and _has nest the same shape over reference_idx, and access-policy
// constraints add criteria wherever resources of their type are selected.

// sqlSearch builds one search statement: its text and its arguments.
type sqlSearch struct {
	placeholder func(n int) string
	args        []any
	tenant      string // the placeholder bound to the tenant
	cons        []store.Constraint
	aliases     int
	err         error
	// inConstraint is set while a constraint's own criteria compile: they
	// are not constrained again, which would recurse without end when a
	// constraint on a type reaches that type (a chain, a _has).
	inConstraint bool
	// common are the criteria written as a correlated EXISTS rather than
	// an IN list (commonCriteria).
	common map[*search.Criterion]bool
}

func newSQLSearch(placeholder func(int) string, tenant string, cons []store.Constraint) *sqlSearch {
	s := &sqlSearch{placeholder: placeholder, cons: cons}
	s.tenant = s.bind(tenant)
	return s
}

// bind adds an argument and returns its placeholder.
func (s *sqlSearch) bind(v any) string {
	s.args = append(s.args, v)
	return s.placeholder(len(s.args))
}

// bindList binds values for an IN list: "($1, $2)".
func (s *sqlSearch) bindList(vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = s.bind(v)
	}
	return "(" + strings.Join(ph, ", ") + ")"
}

// alias returns a fresh table alias, so nested subqueries never shadow.
func (s *sqlSearch) alias(prefix string) string {
	s.aliases++
	return prefix + strconv.Itoa(s.aliases)
}

// fail records the first compile error; the statement is then discarded.
func (s *sqlSearch) fail(err error) string {
	if s.err == nil {
		s.err = err
	}
	return "1 = 0"
}

// allowed removes the types a Deny constraint hides. For a search over all
// types (nil) it returns nil and the caller adds denied().
func (s *sqlSearch) allowed(types []string) []string {
	if types == nil {
		return nil
	}
	out := []string{}
	for _, t := range types {
		if !s.denied(t) {
			out = append(out, t)
		}
	}
	return out
}

func (s *sqlSearch) denied(t string) bool {
	for _, c := range s.cons {
		if c.Deny && (c.Type == t || c.Type == "*") {
			return true
		}
	}
	return false
}

// typeCond restricts column col to types (nil: any type not denied).
func (s *sqlSearch) typeCond(col string, types []string) string {
	if types == nil {
		var denied []string
		for _, c := range s.cons {
			if c.Deny {
				if c.Type == "*" {
					return "1 = 0"
				}
				denied = append(denied, c.Type)
			}
		}
		if len(denied) == 0 {
			return ""
		}
		return col + " NOT IN " + s.bindList(denied)
	}
	switch len(types) {
	case 0:
		return "1 = 0"
	case 1:
		return col + " = " + s.bind(types[0])
	}
	return col + " IN " + s.bindList(types)
}

// resourceFilter is the condition that resource row a (of one of types) is
// current, not deleted, matches every criterion and passes the constraints.
func (s *sqlSearch) resourceFilter(a string, types []string, where []search.Criterion) string {
	types = s.allowed(types)
	conds := []string{a + ".tenant_id = " + s.tenant}
	if !impliesLive(where) {
		conds = append(conds, "NOT "+a+".deleted")
	}
	if tc := s.typeCond(a+".type", types); tc != "" {
		conds = append(conds, tc)
	}
	for i := range where {
		conds = append(conds, s.criterion(a, types, &where[i]))
	}
	conds = append(conds, s.constraints(a, types)...)
	return strings.Join(conds, " AND ")
}

// impliesLive reports whether a resource matching where cannot be a delete
// marker: some criterion needs an index row, and only current, non-deleted
// resources have index rows. The deleted flag is then left out of the
// query, so that the primary key alone (an index-only scan) can walk the
// resources in id order.
func impliesLive(where []search.Criterion) bool {
	for _, c := range where {
		switch {
		case c.Has != nil || len(c.Any) > 0 || c.Param == nil:
		case c.Param.Code == search.ParamID || c.Param.Code == search.ParamLastUpdated:
		case c.Modifier == search.ModNot || (c.Modifier == search.ModMissing && c.Missing):
		default:
			return true
		}
	}
	return false
}

// constraints are the policy criteria for the resources of a; a criterion of
// a constraint on one type holds only for rows of that type.
func (s *sqlSearch) constraints(a string, types []string) []string {
	if s.inConstraint {
		return nil
	}
	s.inConstraint = true
	defer func() { s.inConstraint = false }()
	var out []string
	for _, c := range s.cons {
		if c.Deny || len(c.Where) == 0 || (c.Type != "*" && types != nil && !contains(types, c.Type)) {
			continue
		}
		ctypes := types
		if c.Type != "*" {
			ctypes = []string{c.Type}
		}
		var conds []string
		for i := range c.Where {
			conds = append(conds, s.criterion(a, ctypes, &c.Where[i]))
		}
		cond := "(" + strings.Join(conds, " AND ") + ")"
		if c.Type != "*" && !(len(types) == 1 && types[0] == c.Type) {
			cond = "(" + a + ".type <> " + s.bind(c.Type) + " OR " + cond + ")"
		}
		out = append(out, cond)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// criterion compiles one criterion on resource alias a of types.
func (s *sqlSearch) criterion(a string, types []string, c *search.Criterion) string {
	switch {
	case len(c.Any) > 0:
		ors := make([]string, len(c.Any))
		for i := range c.Any {
			ors[i] = s.criterion(a, types, &c.Any[i])
		}
		return "(" + strings.Join(ors, " OR ") + ")"
	case c.Has != nil:
		return s.has(a, types, c.Has)
	case c.Param == nil:
		return s.fail(Internalf("sqlbase.Search", "criterion without a parameter"))
	case c.Param.Code == search.ParamID:
		return s.idCond(a, c)
	case c.Param.Code == search.ParamLastUpdated:
		return s.lastUpdatedCond(a, c)
	}
	tbl, ok := tableFor(c)
	if !ok {
		return s.fail(Internalf("sqlbase.Search", "no index table for %s parameter %s", c.Param.Type, c.Param.Code))
	}
	name := search.IndexName(c)
	if c.Modifier == search.ModMissing {
		exists := s.existsRow(a, tbl, name, nil)
		if c.Missing {
			return "NOT " + exists
		}
		return exists
	}
	pred := func(i string) string {
		if c.Chain != nil {
			return s.chainPred(i, c.Chain)
		}
		return s.valuesPred(i, tbl, c)
	}
	if c.Modifier == search.ModNot {
		return "NOT " + s.existsRow(a, tbl, name, pred)
	}
	if s.common[c] {
		return s.existsRow(a, tbl, name, pred)
	}
	return s.inRows(a, types, tbl, name, pred)
}

// plainCriterion reports whether c is one parameter's values on one index
// table (no chain, _has, alternatives or modifier that negates), and the
// table.
func plainCriterion(c *search.Criterion) (string, bool) {
	switch {
	case len(c.Any) > 0 || c.Has != nil || c.Param == nil || c.Chain != nil:
		return "", false
	case c.Param.Code == search.ParamID || c.Param.Code == search.ParamLastUpdated:
		return "", false
	case c.Modifier == search.ModMissing || c.Modifier == search.ModNot:
		return "", false
	}
	return tableFor(c)
}

// existsRow is EXISTS over the index rows of resource a for param,
// narrowed by pred (which gets the index alias) when it is not nil.
func (s *sqlSearch) existsRow(a, tbl, param string, pred func(i string) string) string {
	i := s.alias("i")
	q := "EXISTS (SELECT 1 FROM " + tbl + " " + i + " WHERE " + i + ".tenant_id = " + a + ".tenant_id AND " +
		i + ".type = " + a + ".type AND " + i + ".id = " + a + ".id AND " + i + ".param = " + s.bind(param)
	if pred != nil {
		q += " AND " + pred(i)
	}
	return q + ")"
}

// inRows is the semi-join of resource a with the index rows of param that
// satisfy pred.
func (s *sqlSearch) inRows(a string, types []string, tbl, param string, pred func(i string) string) string {
	i := s.alias("i")
	sub := s.indexRows(i, types, tbl, param, pred)
	if len(types) == 1 {
		return a + ".id IN (SELECT " + i + ".id" + sub + ")"
	}
	return "(" + a + ".type, " + a + ".id) IN (SELECT " + i + ".type, " + i + ".id" + sub + ")"
}

// indexRows is " FROM tbl i WHERE …": the index rows of param of the
// tenant's resources of types that satisfy pred.
func (s *sqlSearch) indexRows(i string, types []string, tbl, param string, pred func(i string) string) string {
	sub := " FROM " + tbl + " " + i + " WHERE " + i + ".tenant_id = " + s.tenant
	if tc := s.typeCond(i+".type", types); tc != "" {
		sub += " AND " + tc
	}
	return sub + " AND " + i + ".param = " + s.bind(param) + " AND " + pred(i)
}

// idsOf selects the ids of resources of types matching where (and the
// constraints): "SELECT id …" for one type, else "SELECT type, id …".
// A single plain criterion without constraints is the index subquery alone.
func (s *sqlSearch) idsOf(types []string, where []search.Criterion) string {
	types = s.allowed(types)
	x := s.alias("x")
	cols := x + ".type, " + x + ".id"
	if len(types) == 1 {
		cols = x + ".id"
	}
	return "SELECT " + cols + " FROM resources " + x + " WHERE " + s.resourceFilter(x, types, where)
}

// chainPred matches reference rows i whose target is a resource of the
// chain's types that matches the chained criterion.
func (s *sqlSearch) chainPred(i string, ch *search.Chain) string {
	types := s.allowed(ch.Types)
	if len(types) == 0 {
		return "1 = 0"
	}
	sub := s.idsOf(types, []search.Criterion{ch.Where})
	if len(types) == 1 {
		return i + ".target_type = " + s.bind(types[0]) + " AND " + i + ".target_id IN (" + sub + ")"
	}
	return "(" + i + ".target_type, " + i + ".target_id) IN (" + sub + ")"
}

// has matches resources a that a resource of h.Type matching h.Where refers
// to through h.Ref.
func (s *sqlSearch) has(a string, types []string, h *search.Has) string {
	if s.denied(h.Type) {
		return "1 = 0"
	}
	src := s.idsOf([]string{h.Type}, []search.Criterion{h.Where})
	g := s.alias("h")
	sub := " FROM reference_idx " + g + " WHERE " + g + ".tenant_id = " + s.tenant + " AND " + g + ".type = " +
		s.bind(h.Type) + " AND " + g + ".param = " + s.bind(h.Ref.Code)
	if tc := s.typeCond(g+".target_type", types); tc != "" {
		sub += " AND " + tc
	}
	sub += " AND " + g + ".id IN (" + src + ")"
	if len(types) == 1 {
		return a + ".id IN (SELECT " + g + ".target_id" + sub + ")"
	}
	return "(" + a + ".type, " + a + ".id) IN (SELECT " + g + ".target_type, " + g + ".target_id" + sub + ")"
}
