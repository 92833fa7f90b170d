package engine

import (
	"regexp"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)

// checkType refuses unknown resource types with 404, as a missing endpoint.
func checkType(typ string) error {
	if !fhir.IsResourceType(typ) {
		return fhir.Errorf(fhir.KindNotFound, "unknown resource type %q", typ)
	}
	return nil
}

// checkID refuses ids that are not valid FHIR ids.
func checkID(id string) error {
	if !idPattern.MatchString(id) {
		return fhir.Errorf(fhir.KindInvalid, "%q is not a valid resource id", id)
	}
	return nil
}

// allow checks the SMART scopes granted to p for perm on typ. Access policy
// (OPA) will sit beside this check; both must allow.
func allow(p Principal, typ string, perm scope.Perm) error {
	if _, err := tenantOf(p); err != nil {
		return err
	}
	// A granular scope (?category=…) lets the request through here; the
	// resource itself is checked against it (compartment.go).
	if !p.Scopes.Allows(typ, perm) && !grantsSome(p.Scopes, typ, perm) {
		return fhir.Errorf(fhir.KindForbidden, "granted scopes do not allow %s on %s", permName(perm), typ)
	}
	return nil
}

func permName(p scope.Perm) string {
	switch p {
	case scope.Create:
		return "create"
	case scope.Read:
		return "read"
	case scope.Update:
		return "update"
	case scope.Delete:
		return "delete"
	case scope.Search:
		return "search"
	}
	return "access"
}

// target validates the type and id of an instance interaction and checks scope.
func target(p Principal, typ, id string, perm scope.Perm) error {
	if err := checkType(typ); err != nil {
		return err
	}
	if err := checkID(id); err != nil {
		return err
	}
	if perm != scope.Read && perm != scope.Search {
		if err := readOnlyAudit(typ); err != nil {
			return err
		}
	}
	return allow(p, typ, perm)
}
