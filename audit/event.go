// Package audit records what happened as FHIR AuditEvents shaped by the IHE
// Basic Audit Log Patterns (BALP), chains them per tenant by hash so that
// tampering shows, and verifies the chain.
//
// An Event describes one interaction (create, read, search …) or one
// authentication event (login, logout, token issue …) in Go terms; Build
// turns it into AuditEvent JSON. Append writes events into a store
// transaction, linked to the tenant's chain; Committer commits concurrent
// requests' events, with the writes they record, as one group (group
// commit); Verify walks a chain and reports the first break.
package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

// Outcome is the AuditEvent outcome code.
type Outcome string

// Outcome codes (http://hl7.org/fhir/audit-event-outcome).
const (
	Success        Outcome = "0"  // the interaction did what was asked
	MinorFailure   Outcome = "4"  // refused: the caller's request or rights (4xx)
	SeriousFailure Outcome = "8"  // the server failed (5xx)
	MajorFailure   Outcome = "12" // the server failed and may have lost integrity
)

// OutcomeOf classifies an interaction's error: the caller's mistakes and
// denials are minor failures, the server's are serious.
func OutcomeOf(err error) Outcome {
	if err == nil {
		return Success
	}
	switch fhir.KindOf(err) {
	case fhir.KindInternal, fhir.KindUnavailable:
		return SeriousFailure
	}
	return MinorFailure
}

// Auth events, recorded with Event.Auth.
const (
	Login          = "login"
	LoginFailed    = "login-failed"
	Logout         = "logout"
	TokenIssued    = "token-issue"
	TokenRefreshed = "token-refresh"
	PasswordChange = "password-change"
	Lockout        = "lockout"
	MFASuccess     = "mfa-success"
	MFAFailure     = "mfa-failure"
)

// Ref names a resource an interaction touched.
type Ref struct {
	Type    string
	ID      string
	Version int64 // 0: no particular version
}

func (r Ref) reference() string {
	s := r.Type + "/" + r.ID
	if r.Version > 0 {
		s += fmt.Sprintf("/_history/%d", r.Version)
	}
	return s
}

// Event is what happened, before it becomes an AuditEvent.
type Event struct {
	ID       string // the AuditEvent id; Log assigns one when empty
	Recorded time.Time
	// Interaction is a restful-interaction code (read, vread, create,
	// update, patch, delete, search-type, search-system, history-instance,
	// history-type, history-system, batch, transaction, operation); Auth
	// is one of the auth event constants. Exactly one is set.
	Interaction string
	Auth        string
	Operation   string // for the operation interaction, e.g. "$export"
	Outcome     Outcome
	// OutcomeDesc says why a failure failed, in words safe to show.
	OutcomeDesc string

	Subject  string // the user or client id behind the request
	FhirUser string // the user's resource, e.g. Practitioner/1
	ClientID string // the application
	IsUser   bool   // a person is behind the request (else the client acts alone)
	Address  string // the client's network address

	Entities []Ref     // resources touched
	Patients []string  // patients concerned, as Patient/id
	Query    string    // for searches: the query as received (Type?params)
	Server   ServerRef // filled in by Log
}

// ServerRef identifies this server in its events.
type ServerRef struct {
	Name    string // observer display, e.g. "hearth"
	BaseURL string // the FHIR base URL
}

// Code systems used by BALP.
const (
	sysEventType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysInteraction = "http://hl7.org/fhir/restful-interaction"
	sysDICOM       = "http://dicom.nema.org/resources/ontology/DCM"
	sysParticipant = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysSourceType  = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysEntityRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	// SysAuthEvent is Hearth's code system for auth events DICOM has no code for.
	SysAuthEvent = "https://hearth-fhir.dev/CodeSystem/auth-event"
	// SysClient identifies OAuth clients in agent identifiers.
	SysClient = "https://hearth-fhir.dev/sid/client-id"
	// SysSubject identifies users and clients by their token subject.
	SysSubject = "https://hearth-fhir.dev/sid/subject"
	balp       = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit."
)

// interactions maps restful-interaction codes to the AuditEvent action and
// the BALP profile (without and with a patient).
var interactions = map[string]struct {
	action, profile string
}{
	"create":           {"C", "Create"},
	"read":             {"R", "Read"},
	"vread":            {"R", "Read"},
	"history-instance": {"R", "Read"},
	"update":           {"U", "Update"},
	"patch":            {"U", "Update"},
	"delete":           {"D", "Delete"},
	"search-type":      {"E", "Query"},
	"search-system":    {"E", "Query"},
	"history-type":     {"E", "Query"},
	"history-system":   {"E", "Query"},
	"batch":            {"E", ""},
	"transaction":      {"E", ""},
	"operation":        {"E", ""},
}

// authEvents maps auth events to their DICOM type and subtype.
var authEvents = map[string]struct {
	typ, subtype coding
}{
	Login:          {dcm("110114", "User Authentication"), dcm("110122", "Login")},
	LoginFailed:    {dcm("110114", "User Authentication"), dcm("110122", "Login")},
	Logout:         {dcm("110114", "User Authentication"), dcm("110123", "Logout")},
	TokenIssued:    {dcm("110114", "User Authentication"), hearthCode(TokenIssued, "Access token issued")},
	TokenRefreshed: {dcm("110114", "User Authentication"), hearthCode(TokenRefreshed, "Access token refreshed")},
	PasswordChange: {dcm("110137", "User Security Attributes Changed"), hearthCode(PasswordChange, "Password changed")},
	Lockout:        {dcm("110113", "Security Alert"), hearthCode(Lockout, "Account locked")},
	MFASuccess:     {dcm("110114", "User Authentication"), hearthCode(MFASuccess, "Second factor accepted")},
	MFAFailure:     {dcm("110114", "User Authentication"), hearthCode(MFAFailure, "Second factor refused")},
}

// clientRole is the DICOM agent type of the client application, whose
// agent carries the network address.
const clientRole = "110153"

func dcm(code, display string) coding { return coding{System: sysDICOM, Code: code, Display: display} }

func hearthCode(code, display string) coding {
	return coding{System: SysAuthEvent, Code: code, Display: display}
}

// The AuditEvent JSON, in the element order of the specification.
type (
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	concept struct {
		Coding []coding `json:"coding"`
	}
	identifier struct {
		System string `json:"system,omitempty"`
		Value  string `json:"value"`
	}
	reference struct {
		Reference  string      `json:"reference,omitempty"`
		Identifier *identifier `json:"identifier,omitempty"`
		Display    string      `json:"display,omitempty"`
	}
	network struct {
		Address string `json:"address"`
		Type    string `json:"type"`
	}
	agent struct {
		Type      concept    `json:"type"`
		Who       *reference `json:"who,omitempty"`
		Requestor bool       `json:"requestor"`
		Network   *network   `json:"network,omitempty"`
	}
	source struct {
		Observer reference `json:"observer"`
		Type     []coding  `json:"type"`
	}
	entity struct {
		What        *reference `json:"what,omitempty"`
		Type        coding     `json:"type"`
		Role        coding     `json:"role"`
		Description string     `json:"description,omitempty"`
		Query       string     `json:"query,omitempty"`
	}
	meta struct {
		Profile []string `json:"profile,omitempty"`
	}
	auditEvent struct {
		ResourceType string   `json:"resourceType"`
		ID           string   `json:"id"`
		Meta         *meta    `json:"meta,omitempty"`
		Type         coding   `json:"type"`
		Subtype      []coding `json:"subtype"`
		Action       string   `json:"action"`
		Recorded     string   `json:"recorded"`
		Outcome      Outcome  `json:"outcome"`
		OutcomeDesc  string   `json:"outcomeDesc,omitempty"`
		Agent        []agent  `json:"agent"`
		Source       source   `json:"source"`
		Entity       []entity `json:"entity,omitempty"`
	}
)

// Build returns the AuditEvent JSON for ev.
func Build(ev Event) ([]byte, error) {
	if ev.ID == "" || ev.Recorded.IsZero() {
		return nil, fmt.Errorf("audit: event without id or time")
	}
	if ev.Outcome == "" {
		ev.Outcome = Success
	}
	ae := auditEvent{
		ResourceType: "AuditEvent",
		ID:           ev.ID,
		Recorded:     ev.Recorded.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Outcome:      ev.Outcome,
		OutcomeDesc:  ev.OutcomeDesc,
		Agent:        agents(ev),
		Source: source{
			Observer: reference{Display: nonEmpty(ev.Server.Name, "hearth")},
			Type:     []coding{{System: sysSourceType, Code: "4", Display: "Application Server"}},
		},
	}
	switch {
	case ev.Interaction != "" && ev.Auth == "":
		in, ok := interactions[ev.Interaction]
		if !ok {
			return nil, fmt.Errorf("audit: unknown interaction %q", ev.Interaction)
		}
		ae.Type = coding{System: sysEventType, Code: "rest", Display: "RESTful Operation"}
		ae.Subtype = []coding{{System: sysInteraction, Code: ev.Interaction, Display: ev.Interaction}}
		if ev.Operation != "" {
			ae.Subtype = append(ae.Subtype, coding{System: SysAuthEvent + "-operation", Code: ev.Operation})
		}
		ae.Action = in.action
		if in.profile != "" {
			profile := in.profile
			if len(ev.Patients) > 0 {
				profile = "Patient" + profile
			}
			ae.Meta = &meta{Profile: []string{balp + profile}}
		}
	case ev.Auth != "" && ev.Interaction == "":
		a, ok := authEvents[ev.Auth]
		if !ok {
			return nil, fmt.Errorf("audit: unknown auth event %q", ev.Auth)
		}
		ae.Type, ae.Subtype, ae.Action = a.typ, []coding{a.subtype}, "E"
	default:
		return nil, fmt.Errorf("audit: an event is an interaction or an auth event")
	}
	ae.Entity = entities(ev)
	return json.Marshal(ae)
}

// agents lists the user (when a person acts), the client application with
// its network address, and this server, as BALP asks.
func agents(ev Event) []agent {
	var out []agent
	if ev.IsUser {
		who := &reference{Reference: ev.FhirUser}
		if ev.Subject != "" {
			who.Identifier = &identifier{System: SysSubject, Value: ev.Subject}
		}
		out = append(out, agent{
			Type:      concept{[]coding{{System: sysParticipant, Code: "IRCP", Display: "information recipient"}}},
			Who:       who,
			Requestor: true,
		})
	}
	client := agent{
		Type:      concept{[]coding{dcm(clientRole, "Source Role ID")}},
		Requestor: !ev.IsUser,
	}
	id := ev.ClientID
	if id == "" && !ev.IsUser {
		id = ev.Subject // a client acting alone is its own subject
	}
	if id != "" {
		client.Who = &reference{Identifier: &identifier{System: SysClient, Value: id}}
	}
	if ev.Address != "" {
		client.Network = &network{Address: ev.Address, Type: networkType(ev.Address)}
	}
	out = append(out, client)
	server := agent{
		Type: concept{[]coding{dcm("110152", "Destination Role ID")}},
		Who:  &reference{Display: nonEmpty(ev.Server.Name, "hearth")},
	}
	if ev.Server.BaseURL != "" {
		server.Network = &network{Address: ev.Server.BaseURL, Type: "5"}
	}
	return append(out, server)
}

// networkType is 2 (IP address) for addresses, 1 (machine name) otherwise.
func networkType(addr string) string {
	if strings.ContainsAny(addr, ".:") && strings.IndexFunc(addr, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '.' || r == ':')
	}) < 0 {
		return "2"
	}
	return "1"
}

// entities lists the resources touched, the patients concerned and, for
// searches, the query.
func entities(ev Event) []entity {
	var out []entity
	for _, r := range ev.Entities {
		out = append(out, entity{
			What: &reference{Reference: r.reference()},
			Type: coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role: coding{System: sysEntityRole, Code: "4", Display: "Domain Resource"},
		})
	}
	for _, p := range ev.Patients {
		out = append(out, entity{
			What: &reference{Reference: p},
			Type: coding{System: sysEntityType, Code: "1", Display: "Person"},
			Role: coding{System: sysEntityRole, Code: "1", Display: "Patient"},
		})
	}
	if ev.Query != "" {
		out = append(out, entity{
			Type:        coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role:        coding{System: sysEntityRole, Code: "24", Display: "Query"},
			Description: ev.Query,
			Query:       base64.StdEncoding.EncodeToString([]byte(ev.Query)),
		})
	}
	return out
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
