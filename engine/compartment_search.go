package engine

import (
	"slices"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// checkSearchCompartment applies patient/ scopes to a search: a caller
// whose search permission on a type rests only on patient/ scopes may
// search it when the query itself names the launch patient (patient= or
// subject= the launch patient, _id= for Patient), which is how SMART
// clients search (fhirclient's client.patient.request adds patient=).
// Searches that reach beyond the searched types (_include, chains, _has)
// and types granted only through granular scopes are refused to such a
// caller until the search store can apply the compartment and the
// granular parameters itself.
func checkSearchCompartment(p Principal, q *search.Query) error {
	if len(q.Types) == 0 {
		return checkNoCompartmentQuery(p, "*", scope.Search)
	}
	for _, t := range q.Types {
		if !patientOnly(p, t, scope.Search) {
			continue
		}
		if !patientBlanket(p, t) || reachesOut(q) || !pinsPatient(q, t, p.LaunchPatient) {
			return fhir.Errorf(fhir.KindForbidden,
				"patient scopes allow searching %s only for the launch patient (add patient=Patient/%s)", t, p.LaunchPatient)
		}
	}
	return nil
}

// patientBlanket reports whether a patient/ scope without parameters
// grants search on typ.
func patientBlanket(p Principal, typ string) bool {
	for _, sc := range p.Scopes.Resource {
		if sc.Context == "patient" && len(sc.Params) == 0 && (sc.Type == "*" || sc.Type == typ) && sc.Perms&scope.Search != 0 {
			return true
		}
	}
	return false
}

// pinsPatient reports whether the query keeps only resources of the
// patient: a plain criterion patient= or subject= (or _id= on Patient)
// whose every value is that patient.
func pinsPatient(q *search.Query, typ, patient string) bool {
	if patient == "" {
		return false
	}
	for _, c := range q.Criteria {
		if c.Param == nil || c.Modifier != search.ModNone || c.Chain != nil || c.Has != nil || len(c.Values) == 0 {
			continue
		}
		if ok := allValues(c.Values, func(v search.Value) bool {
			switch v := v.(type) {
			case search.ReferenceValue:
				// patient=id may also match a Group with that id (the R4
				// parameter targets both); ids are server-assigned, and
				// subject= must say Patient/id.
				return v.URL == "" && v.ID == patient && slices.Contains(v.Types, "Patient") &&
					(c.Param.Code == "patient" || (c.Param.Code == "subject" && len(v.Types) == 1))
			case search.TokenValue:
				return typ == "Patient" && c.Param.Code == search.ParamID && v.Code == patient
			case search.StringValue:
				return typ == "Patient" && c.Param.Code == search.ParamID && v.Value == patient
			}
			return false
		}); ok {
			return true
		}
	}
	return false
}

func allValues(vs []search.Value, f func(search.Value) bool) bool {
	for _, v := range vs {
		if !f(v) {
			return false
		}
	}
	return true
}
