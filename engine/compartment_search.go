package engine

import (
	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// scopeConstraints narrows a search to what the caller's scopes reach when
// they reach a type only through patient/ or granular scopes: the store
// then keeps, wherever resources of that type are selected (the matches,
// chains, _has, includes, counts), only the launch patient's compartment
// and only resources matching the scope's parameters. Types the query
// selects need s, the others (included, chained) r.
func (e *Engine) scopeConstraints(p Principal, q *search.Query) ([]store.Constraint, error) {
	var out []store.Constraint
	for _, t := range reachableTypes(q) {
		perm := scope.Search
		if len(q.Types) > 0 && !contains(q.Types, t) {
			perm = scope.Read
		}
		if !patientOnly(p, t, perm) {
			continue
		}
		c, err := e.scopeConstraint(p, t, perm)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// scopeConstraint is the constraint on typ for a caller whose perm on it
// rests on patient/ or granular scopes: any granting scope may hold, each
// as the compartment (patient/) and its parameters together.
func (e *Engine) scopeConstraint(p Principal, typ string, perm scope.Perm) (store.Constraint, error) {
	var grants [][]search.Criterion
	for _, sc := range p.Scopes.Resource {
		if (sc.Type != "*" && sc.Type != typ) || sc.Perms&perm != perm {
			continue
		}
		var all []search.Criterion
		if sc.Context == "patient" {
			c, ok, err := e.compartmentCriterion(typ, p.LaunchPatient)
			if err != nil {
				return store.Constraint{}, err
			}
			if !ok {
				continue // outside the compartment: this scope reaches nothing
			}
			all = append(all, c)
		}
		params, ok := e.paramCriteria(typ, sc.Params)
		if !ok {
			continue // a parameter the type lacks: this scope reaches nothing
		}
		if all = append(all, params...); len(all) > 0 {
			grants = append(grants, all)
		}
	}
	switch {
	case len(grants) == 0:
		return store.Constraint{Type: typ, Deny: true}, nil
	case len(grants) == 1:
		return store.Constraint{Type: typ, Where: grants[0]}, nil
	}
	// Several grants: their union is expressible when each is one criterion.
	var any []search.Criterion
	for _, g := range grants {
		if len(g) != 1 {
			return store.Constraint{}, fhir.Errorf(fhir.KindForbidden,
				"the granted scopes on %s combine in a way a search cannot apply; narrow the scopes", typ)
		}
		any = append(any, g[0])
	}
	return store.Constraint{Type: typ, Where: []search.Criterion{{Any: any}}}, nil
}

// paramCriteria are a granular scope's parameters as criteria on typ; ok is
// false when typ cannot be searched by one of them.
func (e *Engine) paramCriteria(typ string, params map[string][]string) ([]search.Criterion, bool) {
	var out []search.Criterion
	for name, values := range params {
		for _, v := range values {
			c, err := e.queryCriterion(typ, name, v)
			if err != nil {
				return nil, false
			}
			out = append(out, c)
		}
	}
	return out, true
}

// compartmentCriterion selects the resources of typ in patient's
// compartment: the patient itself (and Patients linking to it), or any
// compartment parameter referring to it. ok is false when typ is not in
// the Patient compartment, or there is no launch patient.
func (e *Engine) compartmentCriterion(typ, patient string) (search.Criterion, bool, error) {
	if patient == "" {
		return search.Criterion{}, false, nil
	}
	var any []search.Criterion
	if typ == "Patient" {
		c, err := e.criterion(typ, search.ParamID, []string{patient})
		if err != nil {
			return search.Criterion{}, false, err
		}
		any = append(any, c)
	}
	for _, cp := range compartment()[typ] {
		c, err := e.criterion(typ, cp.Param, []string{"Patient/" + patient})
		if err != nil {
			return search.Criterion{}, false, err
		}
		any = append(any, c)
	}
	if len(any) == 0 {
		return search.Criterion{}, false, nil
	}
	return search.Criterion{Any: any}, true, nil
}
