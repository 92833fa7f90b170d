package engine

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
)

// Patient-compartment enforcement for SMART patient/ scopes: a caller
// whose access to a type rests only on patient/ scopes may touch only
// resources in the launch patient's compartment. Reads, vreads, instance
// history, updates, patches, deletes and creates check the resource
// itself. Searches and type or system history are refused for such a
// caller until search can filter by compartment (the search work adds
// that filter).

// compartmentMembers are the top-level elements that put a resource in a
// patient's compartment (after the R4 Patient CompartmentDefinition, for
// the elements that hold a direct reference).
var compartmentMembers = []string{
	"subject", "patient", "beneficiary", "individual", "sender", "recipient", "performer", "author",
	"requester", "informationSource", "asserter", "recorder", "source", "owner", "participant", "policyHolder", "subscriber",
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

// inCompartment reports whether a resource is patient id or refers to it.
func inCompartment(typ string, body []byte, id string) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	if typ == "Patient" {
		var got string
		return json.Unmarshal(top["id"], &got) == nil && got == id
	}
	for _, m := range compartmentMembers {
		if raw, ok := top[m]; ok && refersTo(raw, id) {
			return true
		}
	}
	return false
}

// refersTo reports whether a Reference, an array of them, or a backbone
// element holding one (participant.individual …) names Patient/id.
func refersTo(raw json.RawMessage, id string) bool {
	var ref struct {
		Reference string `json:"reference"`
	}
	if json.Unmarshal(raw, &ref) == nil && ref.Reference != "" {
		return ref.Reference == "Patient/"+id || strings.HasSuffix(ref.Reference, "/Patient/"+id)
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		for _, el := range list {
			if refersTo(el, id) {
				return true
			}
		}
		return false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for k, v := range obj {
			if k != "extension" && refersTo(v, id) {
				return true
			}
		}
	}
	return false
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
