package audit

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/hearth-fhir/hearth/store"
)

// Actor is who made a request: a user (Subject is the user id, FhirUser
// their resource) or a client acting alone (Client). The zero Actor is a
// login attempt that named no known user.
type Actor struct {
	Subject  string
	FhirUser string
	Client   bool
}

// AccessCount is how many requests of one kind an actor made with one
// outcome. Interaction is the restful interaction (read, search-type …)
// or the auth event (login, logout, token-issue, lockout …).
type AccessCount struct {
	Actor       Actor
	Interaction string
	Outcome     Outcome
	Count       int
}

// FailedLogin is a login refused: a wrong password or an unknown user
// (login with a failure outcome), or an attempt on a locked account
// (lockout).
type FailedLogin struct {
	ID       string // the AuditEvent
	Recorded time.Time
	Actor    Actor
	Event    string // login or lockout
	Address  string
	Reason   string
}

// AccessReport is what a tenant's audit log holds for a period.
type AccessReport struct {
	From, To     time.Time // recorded at or after From and before To
	Access       []AccessCount
	FailedLogins []FailedLogin // oldest first
}

// reportPage is how many entries ReportAccess reads at a time.
const reportPage = 1000

// ReportAccess tallies the AuditEvents of tenant recorded in [from, to): the
// requests of each actor by interaction and outcome, and the failed
// logins. keep, when set, selects the actors reported (an organisation's
// users, say). Bodies are read as stored, so encrypted elements (a
// search's query) stay sealed; the report does not need them.
func ReportAccess(ctx context.Context, log store.AuditLog, tenant string, from, to time.Time, keep func(Actor) bool) (AccessReport, error) {
	rep := AccessReport{From: from, To: to}
	counts := map[AccessCount]int{}
	q := store.AuditSearch{Oldest: true, Count: reportPage,
		When: []store.AuditWhen{{{Low: from.UnixMicro(), High: to.UnixMicro() - 1}}}}
	for {
		page, err := log.SearchAudit(ctx, tenant, q)
		if err != nil {
			return rep, err
		}
		for _, en := range page.Entries {
			var ev reportEvent
			if err := json.Unmarshal(en.Body, &ev); err != nil {
				continue // verify reports a damaged entry; the tally skips it
			}
			actor, address := ev.requestor()
			if keep != nil && !keep(actor) {
				continue
			}
			kind := ev.interaction()
			counts[AccessCount{Actor: actor, Interaction: kind, Outcome: ev.Outcome}]++
			if kind == "lockout" || kind == "login" && ev.Outcome != Success {
				rep.FailedLogins = append(rep.FailedLogins, FailedLogin{ID: en.ID, Recorded: en.Recorded, Actor: actor,
					Event: kind, Address: address, Reason: ev.OutcomeDesc})
			}
		}
		if page.Next == nil {
			break
		}
		q.After = page.Next
	}
	for c, n := range counts {
		c.Count = n
		rep.Access = append(rep.Access, c)
	}
	slices.SortFunc(rep.Access, func(a, b AccessCount) int {
		return cmp.Or(cmp.Compare(a.Actor.Subject, b.Actor.Subject), cmp.Compare(a.Actor.FhirUser, b.Actor.FhirUser),
			boolCompare(a.Actor.Client, b.Actor.Client), cmp.Compare(a.Interaction, b.Interaction), cmp.Compare(a.Outcome, b.Outcome))
	})
	return rep, nil
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// reportEvent is what the report reads of an AuditEvent.
type reportEvent struct {
	Type        coding   `json:"type"`
	Subtype     []coding `json:"subtype"`
	Outcome     Outcome  `json:"outcome"`
	OutcomeDesc string   `json:"outcomeDesc"`
	Agent       []agent  `json:"agent"`
}

// requestor is the agent that asked (the user, or a client alone) and the
// network address the request came from (the client's).
func (ev reportEvent) requestor() (Actor, string) {
	var a Actor
	var address string
	for _, ag := range ev.Agent {
		if ag.Network != nil && len(ag.Type.Coding) > 0 && ag.Type.Coding[0].Code == clientRole {
			address = ag.Network.Address
		}
		if !ag.Requestor || ag.Who == nil {
			continue
		}
		a.FhirUser = ag.Who.Reference
		if id := ag.Who.Identifier; id != nil {
			a.Subject, a.Client = id.Value, id.System == SysClient
		}
	}
	return a, address
}

// interaction names an event for the report: the restful interaction, or
// the auth event.
func (ev reportEvent) interaction() string {
	if len(ev.Subtype) == 0 {
		return ev.Type.Code
	}
	s := ev.Subtype[0]
	if s.System == sysDICOM {
		for name, a := range authEvents {
			if a.subtype.Code == s.Code && name != LoginFailed {
				return name
			}
		}
	}
	return s.Code
}
