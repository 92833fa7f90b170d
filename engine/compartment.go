package engine

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/policy"
)

// Patient-compartment enforcement for SMART patient/ scopes: a caller
// whose access to a type rests only on patient/ scopes may touch only
// resources in the launch patient's compartment, as the R4 Patient
// CompartmentDefinition draws it (policy.PatientCompartment). Reads,
// vreads, instance history, updates, patches, deletes and creates check
// the resource itself; searches get the compartment as a constraint
// (compartment_search.go); type and system history are refused to such a
// caller.

// compartment is the R4 Patient compartment table.
func compartment() map[string][]policy.CompartmentParam {
	table, err := policy.PatientCompartment()
	if err != nil {
		// The table is embedded and checked by the policy tests: a bug.
		panic(err)
	}
	return table
}

// patientOnly reports whether p's access to typ for perm needs a look at
// the resource: no user/ or system/ scope without granular parameters
// grants it, so it rests on patient/ scopes (the launch patient's
// compartment) or on granular scopes (?category=… must match).
func patientOnly(p Principal, typ string, perm scope.Perm) bool {
	var wide scope.Set
	for _, sc := range p.Scopes.Resource {
		if sc.Context != "patient" {
			wide.Resource = append(wide.Resource, sc)
		}
	}
	return !wide.Allows(typ, perm)
}

// checkCompartment refuses body (a typ resource) unless p may touch it with
// perm: always when a user/ or system/ scope allows it; through a patient/
// scope only when it is the launch patient or refers to them in a
// compartment element; through a granular scope only when the resource
// matches the scope's parameters (and, for patient/, is in the compartment).
func checkCompartment(p Principal, typ string, perm scope.Perm, body []byte) error {
	if body == nil || !patientOnly(p, typ, perm) {
		return nil
	}
	inComp := p.LaunchPatient != "" && inCompartment(typ, body, p.LaunchPatient)
	for _, sc := range p.Scopes.Resource {
		if (sc.Type != "*" && sc.Type != typ) || sc.Perms&perm != perm {
			continue
		}
		if sc.Context == "patient" && !inComp {
			continue
		}
		if len(sc.Params) == 0 || matchesParams(body, sc.Params) {
			return nil
		}
	}
	if !inComp && p.Scopes.Allows(typ, perm) {
		return fhir.Errorf(fhir.KindForbidden, "patient scopes only reach the launch patient's records")
	}
	return fhir.Errorf(fhir.KindForbidden, "granted scopes do not allow %s on this %s", permName(perm), typ)
}

// grantsSome reports whether some scope, granular ones included, could
// allow perm on typ; the resource decides (checkCompartment).
func grantsSome(s scope.Set, typ string, perm scope.Perm) bool {
	for _, sc := range s.Resource {
		if (sc.Type == "*" || sc.Type == typ) && sc.Perms&perm == perm {
			return true
		}
	}
	return false
}

// matchesParams checks a resource against granular scope parameters. Each
// parameter must match the top-level element of the same name as a token:
// "system|code", "code" or "system|" against a code, Coding or
// CodeableConcept (or a list of them). Other parameters cannot be checked
// here and do not match, so a granular grant never reaches further than
// it says.
func matchesParams(body []byte, params map[string][]string) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	for name, values := range params {
		raw, ok := top[name]
		if !ok {
			return false
		}
		codings := codingsOf(raw)
		matched := false
		for _, v := range values {
			for _, alt := range strings.Split(v, ",") {
				system, code, hasSystem := strings.Cut(alt, "|")
				if !hasSystem {
					system, code = "", alt
				}
				for _, c := range codings {
					if (!hasSystem || c.System == system) && (code == "" || c.Code == code) {
						matched = true
					}
				}
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

type coding struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

// codingsOf reads the codings of a code, Coding, CodeableConcept or a list.
func codingsOf(raw json.RawMessage) []coding {
	var code string
	if json.Unmarshal(raw, &code) == nil {
		return []coding{{Code: code}}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []coding
		for _, el := range list {
			out = append(out, codingsOf(el)...)
		}
		return out
	}
	var cc struct {
		Coding []coding `json:"coding"`
		coding
	}
	if json.Unmarshal(raw, &cc) != nil {
		return nil
	}
	if cc.Code != "" {
		return append(cc.Coding, cc.coding)
	}
	return cc.Coding
}

// checkNoCompartmentQuery refuses interactions over many resources to a
// caller limited to one patient, until they can be filtered.
func checkNoCompartmentQuery(p Principal, typ string, perm scope.Perm) error {
	if patientOnly(p, typ, perm) {
		return fhir.Errorf(fhir.KindForbidden, "patient scopes do not allow this interaction over all %s resources yet", typ)
	}
	return nil
}

// inCompartment reports whether a resource is patient id or is in that
// patient's compartment: an element a compartment parameter covers refers
// to the patient.
func inCompartment(typ string, body []byte, id string) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	if typ == "Patient" {
		var got string
		if json.Unmarshal(top["id"], &got) == nil && got == id {
			return true
		}
	}
	for _, cp := range compartment()[typ] {
		for _, path := range cp.Paths {
			if len(path) > 0 && refersAlong(top[path[0]], path[1:], id) {
				return true
			}
		}
	}
	return false
}

// refersAlong follows an element path through objects and arrays and
// reports whether a Reference at its end names Patient/id.
func refersAlong(raw json.RawMessage, path []string, id string) bool {
	if len(raw) == 0 {
		return false
	}
	if raw[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return false
		}
		for _, el := range list {
			if refersAlong(el, path, id) {
				return true
			}
		}
		return false
	}
	if len(path) == 0 {
		return refersTo(raw, id)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return false
	}
	return refersAlong(obj[path[0]], path[1:], id)
}

// refersTo reports whether a Reference names Patient/id (relative or
// absolute).
func refersTo(raw json.RawMessage, id string) bool {
	var ref struct {
		Reference string `json:"reference"`
	}
	if json.Unmarshal(raw, &ref) != nil || ref.Reference == "" {
		return false
	}
	return ref.Reference == "Patient/"+id || strings.HasSuffix(ref.Reference, "/Patient/"+id)
}

// checkCompartmentOf checks the current version of typ/id (when there is a
// live one) for a patient-limited caller.
func checkCompartmentOf(ctx context.Context, r reader, p Principal, typ, id string, perm scope.Perm) error {
	if !patientOnly(p, typ, perm) {
		return nil
	}
	cur, err := r.Read(ctx, typ, id)
	if err != nil || cur.Deleted {
		return nil // nothing to reveal or to protect
	}
	return checkCompartment(p, typ, perm, cur.Body)
}
