// Package scope parses SMART on FHIR scopes, v1 (patient/Observation.read)
// and v2 (patient/Observation.rs?category=…), into permission sets that the
// token endpoint narrows and the engine checks. It is pure: no I/O, no clock.
package scope

import (
	"net/url"
	"strings"
)

// Perm is a set of FHIR interactions a scope grants.
type Perm uint8

// The SMART v2 permissions, in the order their letters must appear (.cruds).
const (
	Create Perm = 1 << iota
	Read
	Update
	Delete
	Search
)

// All is every permission; v1 ".*" and v2 ".cruds" both mean it.
const All = Create | Read | Update | Delete | Search

// letters maps each permission to its v2 letter, in the required order.
var letters = [...]struct {
	perm Perm
	char byte
}{{Create, 'c'}, {Read, 'r'}, {Update, 'u'}, {Delete, 'd'}, {Search, 's'}}

// String renders p as v2 letters, e.g. "rs".
func (p Perm) String() string {
	var b strings.Builder
	for _, l := range letters {
		if p&l.perm != 0 {
			b.WriteByte(l.char)
		}
	}
	return b.String()
}

// Scope is one resource scope such as system/Observation.rs.
type Scope struct {
	Context string     // patient, user or system
	Type    string     // "*" or a resource type
	Perms   Perm       // never zero for a parsed scope
	Params  url.Values // v2 granular constraints (?category=…); nil when none
	Raw     string     // the scope as written
}

// String returns the scope as written, or a v2 rendering for a scope that was
// built rather than parsed.
func (sc Scope) String() string {
	if sc.Raw != "" {
		return sc.Raw
	}
	s := sc.Context + "/" + sc.Type + "." + sc.Perms.String()
	if len(sc.Params) > 0 {
		s += "?" + sc.Params.Encode()
	}
	return s
}

// query returns the raw query part of a parsed scope, so a narrowed scope
// keeps its granular constraint exactly as the client wrote it rather than
// re-encoded (url.Values.Encode would escape the "|" in token params).
func (sc Scope) query() string {
	if i := strings.IndexByte(sc.Raw, '?'); i >= 0 {
		return sc.Raw[i:]
	}
	if len(sc.Params) > 0 {
		return "?" + sc.Params.Encode()
	}
	return ""
}

// Set is a parsed scope string: resource scopes plus every other scope
// (openid, fhirUser, launch, launch/patient, offline_access …).
type Set struct {
	Resource []Scope
	Other    []string
}

// Empty reports whether the set grants nothing at all.
func (s Set) Empty() bool { return len(s.Resource) == 0 && len(s.Other) == 0 }

// String renders the set as a space-separated scope string: resource scopes
// first, then the others, each in its original order.
func (s Set) String() string {
	parts := make([]string, 0, len(s.Resource)+len(s.Other))
	for _, sc := range s.Resource {
		parts = append(parts, sc.String())
	}
	parts = append(parts, s.Other...)
	return strings.Join(parts, " ")
}

// Allows reports whether some scope grants every permission in p on
// resourceType, directly or through "*". Scopes with granular Params never
// count here: they grant only a filtered subset, which the engine must apply
// as a search constraint instead.
func (s Set) Allows(resourceType string, p Perm) bool {
	if p == 0 {
		return false
	}
	for _, sc := range s.Resource {
		if len(sc.Params) == 0 && (sc.Type == "*" || sc.Type == resourceType) && sc.Perms&p == p {
			return true
		}
	}
	return false
}

// Has reports whether a non-resource scope (openid, launch/patient …) is in the set.
func (s Set) Has(other string) bool {
	for _, o := range s.Other {
		if o == other {
			return true
		}
	}
	return false
}
