package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// errChainBroken makes `hearth audit verify` exit non-zero.
var errChainBroken = fmt.Errorf("the audit log does not verify")

const auditUsage = "usage: hearth audit verify [--tenant T] | hearth audit purge --older-than DURATION [--tenant T] | " +
	"hearth audit report --from YYYY-MM-DD --to YYYY-MM-DD [--tenant T] [--organization Organization/ID]; " +
	"each with [--data-dir DIR | --database-url URL]"

// auditCmd handles "hearth audit verify", "purge" and "report".
func auditCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", auditUsage)
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	tenant := fs.String("tenant", "", "only this tenant (default: every tenant with an audit log)")
	olderThan := fs.Duration("older-than", audit.DefaultRetention, "purge: remove AuditEvents recorded longer ago than this (default 6 years, 2191 days)")
	from := fs.String("from", "", "report: first day, YYYY-MM-DD (UTC)")
	to := fs.String("to", "", "report: last day, YYYY-MM-DD (UTC), included")
	org := fs.String("organization", "", "report: only users of this organisation, Organization/ID")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var period [2]time.Time
	if args[0] == "report" {
		var err error
		if period, err = reportPeriod(*from, *to); err != nil {
			return err
		}
		if o, id, ok := strings.Cut(*org, "/"); *org != "" && (!ok || o != "Organization" || id == "") {
			return fmt.Errorf("--organization must be Organization/ID")
		}
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	log, ok := st.(store.AuditLog)
	if !ok {
		return fmt.Errorf("this store keeps no audit log")
	}
	tenants := []string{*tenant}
	if *tenant == "" {
		if tenants, err = log.AuditTenants(ctx); err != nil {
			return err
		}
	}
	switch args[0] {
	case "verify":
		return verifyAudit(ctx, log, tenants, stdout)
	case "purge":
		purged, err := audit.Purge(ctx, log, tenants, time.Now().Add(-*olderThan))
		for _, p := range purged {
			fmt.Fprintf(stdout, "tenant %s: removed %d AuditEvents recorded before %s\n", p.Tenant, p.Removed, p.Before.UTC().Format(time.RFC3339))
		}
		return err
	case "report":
		users, _ := st.(store.Users)
		for _, t := range tenants {
			if err := reportAudit(ctx, log, users, t, period, *org, stdout); err != nil {
				return fmt.Errorf("tenant %s: %w", t, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s", auditUsage)
}

// reportPeriod reads --from and --to: whole UTC days, both included.
func reportPeriod(from, to string) ([2]time.Time, error) {
	var p [2]time.Time
	for i, s := range []string{from, to} {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return p, fmt.Errorf("--from and --to must be dates, YYYY-MM-DD: %q", s)
		}
		p[i] = d
	}
	p[1] = p[1].AddDate(0, 0, 1)
	if !p[0].Before(p[1]) {
		return p, fmt.Errorf("--from %s is after --to %s", from, to)
	}
	return p, nil
}

// verifyAudit walks each tenant's chain and reports the first break.
func verifyAudit(ctx context.Context, log store.AuditLog, tenants []string, stdout io.Writer) error {
	broken := false
	for _, t := range tenants {
		rep, err := audit.Verify(ctx, log, t)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", t, err)
		}
		if rep.Break != nil {
			broken = true
			fmt.Fprintf(stdout, "tenant %s: BROKEN at %s (entries %d to %d, %d verified before the break)\n",
				t, rep.Break, rep.First, rep.Last, rep.Checked)
			continue
		}
		fmt.Fprintf(stdout, "tenant %s: ok, entries %d to %d verified\n", t, rep.First, rep.Last)
	}
	if broken {
		return errChainBroken
	}
	return nil
}

// reportAudit prints one tenant's access report: requests per user by
// interaction and outcome, then the failed logins. Users are named by
// their username where the store knows them. With org, only users whose
// account belongs to that organisation are reported: clients acting alone
// and logins that named no known user have none and are left out.
func reportAudit(ctx context.Context, log store.AuditLog, users store.Users, tenant string, period [2]time.Time, org string, w io.Writer) error {
	names := &accountNames{users: users, tenant: tenant, known: map[string]store.User{}}
	var keep func(audit.Actor) bool
	if org != "" {
		if users == nil {
			return fmt.Errorf("this store keeps no users to find an organisation's")
		}
		keep = func(a audit.Actor) bool {
			u, ok := names.user(ctx, a)
			return ok && u.Organization == org
		}
	}
	rep, err := audit.ReportAccess(ctx, log, tenant, period[0], period[1], keep)
	if err == nil {
		err = names.err
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Access report, tenant %s, %s to %s (UTC)", tenant,
		period[0].Format(time.DateOnly), period[1].AddDate(0, 0, -1).Format(time.DateOnly))
	if org != "" {
		fmt.Fprintf(w, ", users of %s", org)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "\nAccess by user")
	fmt.Fprintln(tw, "USER\tINTERACTION\tOUTCOME\tCOUNT")
	// By name as shown; ReportAccess's order (by subject) holds within.
	slices.SortStableFunc(rep.Access, func(a, b audit.AccessCount) int {
		return strings.Compare(names.name(ctx, a.Actor), names.name(ctx, b.Actor))
	})
	for _, c := range rep.Access {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", names.name(ctx, c.Actor), c.Interaction, outcomeName(c.Outcome), c.Count)
	}
	if len(rep.Access) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	tw.Flush()
	fmt.Fprintf(w, "\nFailed logins: %d\n", len(rep.FailedLogins))
	fmt.Fprintln(tw, "RECORDED\tUSER\tEVENT\tADDRESS\tREASON\tAUDITEVENT")
	for _, f := range rep.FailedLogins {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Recorded.UTC().Format(time.RFC3339), names.name(ctx, f.Actor),
			f.Event, dash(f.Address), dash(f.Reason), f.ID)
	}
	return tw.Flush()
}

// accountNames finds the user accounts behind actors, once each; err
// keeps the first lookup that failed for another reason than a missing
// user.
type accountNames struct {
	users  store.Users
	tenant string
	known  map[string]store.User
	err    error
}

// user returns the account of a user actor, if the store has it.
func (n *accountNames) user(ctx context.Context, a audit.Actor) (store.User, bool) {
	if n.users == nil || a.Client || a.Subject == "" {
		return store.User{}, false
	}
	if u, ok := n.known[a.Subject]; ok {
		return u, u.ID != ""
	}
	u, err := n.users.GetUser(ctx, n.tenant, a.Subject)
	if err != nil && !fhir.IsKind(err, fhir.KindNotFound) {
		n.err = cmp.Or(n.err, err)
		return store.User{}, false
	}
	n.known[a.Subject] = u
	return u, u.ID != ""
}

// name is how the report shows an actor.
func (n *accountNames) name(ctx context.Context, a audit.Actor) string {
	switch {
	case a.Client:
		return "client " + a.Subject
	case a.Subject == "" && a.FhirUser == "":
		return "(unknown user)"
	}
	s := "user " + a.Subject
	if u, ok := n.user(ctx, a); ok {
		s = u.Username
	}
	if a.FhirUser != "" {
		s += " (" + a.FhirUser + ")"
	}
	return s
}

// outcomeName spells an AuditEvent outcome code out.
func outcomeName(o audit.Outcome) string {
	switch o {
	case audit.Success:
		return "0 success"
	case audit.MinorFailure:
		return "4 refused"
	case audit.SeriousFailure:
		return "8 failed"
	case audit.MajorFailure:
		return "12 failed badly"
	}
	return string(o)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
