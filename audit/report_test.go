package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/store"
)

// The access report counts a period's events per actor, interaction and
// outcome, lists failed logins and lockouts, keeps only the actors asked
// for, and takes the period's end as exclusive.
func TestReportAccess(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	user := audit.Event{Subject: "u1", FhirUser: "Practitioner/p1", ClientID: "app", IsUser: true, Address: "192.0.2.7"}
	client := audit.Event{Subject: "ehr", ClientID: "ehr", Address: "192.0.2.9"}
	at := func(ev audit.Event, when time.Time, set func(*audit.Event)) audit.Event {
		set(&ev)
		ev.Recorded = when
		return ev
	}
	read := func(e *audit.Event) { e.Interaction = "read" }
	events := []audit.Event{
		at(user, day(0).Add(-time.Microsecond), read), // before the period
		at(user, day(0), read),
		at(user, day(0).Add(time.Hour), read),
		at(user, day(0).Add(2*time.Hour), func(e *audit.Event) { e.Interaction = "read"; e.Outcome = audit.MinorFailure }),
		at(client, day(0).Add(3*time.Hour), func(e *audit.Event) { e.Interaction = "create" }),
		at(user, day(0).Add(4*time.Hour), func(e *audit.Event) {
			e.Auth, e.Outcome, e.OutcomeDesc = audit.LoginFailed, audit.MinorFailure, "invalid username or password"
		}),
		at(user, day(0).Add(5*time.Hour), func(e *audit.Event) { e.Auth, e.Outcome = audit.Lockout, audit.MinorFailure }),
		at(user, day(0).Add(6*time.Hour), func(e *audit.Event) { e.Auth, e.Outcome = audit.MFAFailure, audit.MinorFailure }),
		at(user, day(0).Add(7*time.Hour), func(e *audit.Event) { e.Auth = audit.Login }),
		at(audit.Event{IsUser: true, ClientID: "app"}, day(0).Add(8*time.Hour), func(e *audit.Event) {
			e.Auth, e.Outcome = audit.LoginFailed, audit.MinorFailure
		}),
		at(user, day(1).Add(-time.Microsecond), read), // the period's last instant
		at(user, day(1), read),                        // after it
	}
	l := audit.NewLog(audit.ServerRef{Name: "hearth"})
	for _, ev := range events {
		r, err := l.Record(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Tx(ctx, "t1", func(tx store.Tx) error { return audit.Append(ctx, tx, r) }); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := audit.ReportAccess(ctx, db, "t1", day(0), day(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	u1 := audit.Actor{Subject: "u1", FhirUser: "Practitioner/p1"}
	var got []string
	for _, c := range rep.Access {
		got = append(got, fmt.Sprintf("%+v %s %s %d", c.Actor, c.Interaction, c.Outcome, c.Count))
	}
	want := []string{
		"{Subject: FhirUser: Client:false} login 4 1",
		"{Subject:ehr FhirUser: Client:true} create 0 1",
		fmt.Sprintf("%+v lockout 4 1", u1),
		fmt.Sprintf("%+v login 0 1", u1),
		fmt.Sprintf("%+v login 4 1", u1),
		fmt.Sprintf("%+v mfa-failure 4 1", u1),
		fmt.Sprintf("%+v read 0 3", u1),
		fmt.Sprintf("%+v read 4 1", u1),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("access:\n got %q\nwant %q", got, want)
	}
	if len(rep.FailedLogins) != 3 {
		t.Fatalf("failed logins: %+v", rep.FailedLogins)
	}
	first, second, third := rep.FailedLogins[0], rep.FailedLogins[1], rep.FailedLogins[2]
	if first.Actor != u1 || first.Event != "login" || first.Address != "192.0.2.7" || first.Reason != "invalid username or password" ||
		!first.Recorded.Equal(day(0).Add(4*time.Hour)) || second.Event != "lockout" || third.Actor != (audit.Actor{}) {
		t.Errorf("failed logins: %+v", rep.FailedLogins)
	}
	rep, err = audit.ReportAccess(ctx, db, "t1", day(0), day(1), func(a audit.Actor) bool { return a.Client })
	if err != nil || len(rep.Access) != 1 || rep.Access[0].Interaction != "create" || len(rep.FailedLogins) != 0 {
		t.Errorf("clients only: %+v, %v", rep, err)
	}
}
