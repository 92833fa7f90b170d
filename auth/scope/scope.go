// Package scope parses SMART on FHIR scopes. Placeholder API; the auth branch provides the implementation.
package scope

import "net/url"

// Perm is a set of SMART permissions.
type Perm uint8

// Permissions, in the order of SMART v2's "cruds".
const (
	Create Perm = 1 << iota
	Read
	Update
	Delete
	Search
)

// Scope is one resource scope.
type Scope struct {
	Context string
	Type    string
	Perms   Perm
	Params  url.Values
	Raw     string
}

// Set is a parsed scope string.
type Set struct {
	Resource []Scope
	Other    []string
}

// Allows reports whether some unconstrained scope grants p on resourceType.
func (s Set) Allows(resourceType string, p Perm) bool {
	for _, sc := range s.Resource {
		if len(sc.Params) == 0 && (sc.Type == "*" || sc.Type == resourceType) && sc.Perms&p == p {
			return true
		}
	}
	return false
}
