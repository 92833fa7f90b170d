package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/store"
)

// errChainBroken makes `hearth audit verify` exit non-zero.
var errChainBroken = fmt.Errorf("the audit log does not verify")

// auditCmd handles "hearth audit verify" and "hearth audit purge".
func auditCmd(ctx context.Context, args []string, stdout io.Writer) error {
	const usage = "usage: hearth audit verify [--tenant T] | hearth audit purge --older-than DURATION [--tenant T] [--data-dir DIR | --database-url URL]"
	if len(args) == 0 {
		return fmt.Errorf("%s", usage)
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	tenant := fs.String("tenant", "", "check only this tenant (default: every tenant with an audit log)")
	olderThan := fs.Duration("older-than", 6*365*24*time.Hour, "purge: remove AuditEvents recorded longer ago than this (default 6 years)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
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
		cutoff := time.Now().Add(-*olderThan)
		for _, t := range tenants {
			n, err := log.PurgeAudit(ctx, t, cutoff)
			if err != nil {
				return fmt.Errorf("tenant %s: %w", t, err)
			}
			fmt.Fprintf(stdout, "tenant %s: removed %d AuditEvents recorded before %s\n", t, n, cutoff.UTC().Format(time.RFC3339))
		}
		return nil
	}
	return fmt.Errorf("%s", usage)
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
