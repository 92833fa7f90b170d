// Package policy decides who may do what with Open Policy Agent embedded in
// the process. A default Rego bundle (rego/*.rego) ships in the binary; a
// policy directory may replace or extend it and is reloaded when it
// changes. Every decision is one evaluation of a prepared query.
//
// The policy speaks in grants: an action on a resource type, optionally
// only on resources that match FHIR search parameters. For an interaction
// on one resource the policy checks the resource itself; for a search it
// returns the grants as Constraints, which the engine compiles into the
// search's SQL so that counts, paging and _include stay within them.
package policy

import (
	"encoding/json"
	"time"
)

// Principal kinds.
const (
	KindUser   = "user"
	KindClient = "client" // a system client (SMART Backend Services)
	KindBot    = "bot"
)

// Principal is the caller as the policy sees it.
type Principal struct {
	Tenant  string
	Subject string
	Kind    string // KindUser, KindClient or KindBot
	// ClientID is the application acting (for users, the app they use).
	ClientID string
	// Roles are the user's roles in the tenant: admin, practitioner,
	// unverified, staff, patient, auditor.
	Roles []string
	// FhirUser is the user's own resource, e.g. Practitioner/123.
	FhirUser string
	// Organization is the user's organisation, e.g. Organization/9.
	Organization string
	// Verified is set once an admin has checked a practitioner's identity.
	Verified bool
	// Scopes are the granted SMART scopes, as strings.
	Scopes []string
	// LaunchPatient is the patient id of a SMART launch context.
	LaunchPatient string
}

// Interaction names a FHIR interaction with the codes of the
// restful-interaction value set: read, vread, update, patch, delete,
// history-instance, history-type, history-system, create, search-type,
// search-system, batch, transaction, operation.
type Interaction struct {
	Type         string
	ResourceType string
	ID           string
	Operation    string // for Type "operation", e.g. "$export"
}

// Request holds facts about the request that carries the interaction.
type Request struct {
	Time    time.Time
	Address string // the client's network address
}

// Input is everything a decision looks at.
type Input struct {
	Principal   Principal
	Interaction Interaction
	// Resource is the resource acted on: the stored version for reads and
	// deletes, the new version for creates, updates and patches. Nil when
	// there is none (type-level interactions, or a resource that does not
	// exist).
	Resource json.RawMessage
	// Current is the version an update, patch or delete replaces.
	Current json.RawMessage
	Request Request
}

// Decision is the policy's answer.
type Decision struct {
	Allow  bool
	Reason string
	// HiddenFields are element paths (Type.element) removed from every
	// response to this caller.
	HiddenFields []string
	// ReadOnlyFields are element paths this caller may not change.
	ReadOnlyFields []string
	// SearchConstraints, for searches and type or system history, restrict
	// every resource type the caller may see; see Constraints.
	SearchConstraints Constraints
}

// Constraints say which resources a search may select. A type with a
// Constraint may be selected where its clauses hold; with a Constraint for
// "*" every other type may be selected without restriction; any type not
// named (when there is no "*") may not be selected at all.
type Constraints []Constraint

// Constraint restricts one resource type ("*": every type not named).
type Constraint struct {
	Type string
	// All must hold; an empty All restricts nothing.
	All []Clause
}

// Clause holds when any of its matches holds.
type Clause []Match

// Match holds when the resource matches search parameter Param with any of
// Values, as the search `Param=v1,v2` would: references ("Practitioner/1")
// for reference parameters, ids for _id.
type Match struct {
	Param  string
	Values []string
}

// For returns the constraint on typ, and whether typ may be selected at all.
func (cs Constraints) For(typ string) (Constraint, bool) {
	var star *Constraint
	for i := range cs {
		switch cs[i].Type {
		case typ:
			return cs[i], true
		case "*":
			star = &cs[i]
		}
	}
	if star != nil {
		return Constraint{Type: typ, All: star.All}, true
	}
	return Constraint{}, false
}
