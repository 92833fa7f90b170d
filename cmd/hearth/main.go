// Command hearth is the Hearth FHIR server and its administration tool.
//
//	hearth serve    run the server
//	hearth migrate  apply database migrations
//	hearth client   manage OAuth clients (client create)
//	hearth user     manage users (user create, passwd, signout)
//	hearth import   load Bundles and NDJSON files
//	hearth keys     field-encryption keys: status, rotate, rewrap, shred
//	hearth tenant   create a tenant; delete one: its keys first, then its rows
//	hearth audit    verify or purge the audit log
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hearth:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
	case "migrate":
		return migrate(ctx, args[1:], stdout)
	case "client":
		return client(ctx, args[1:], stdout)
	case "user":
		return user(ctx, args[1:], os.Stdin, stdout)
	case "import":
		return runImport(ctx, args[1:], stdout, stderr)
	case "keys":
		return keys(ctx, args[1:], stdout, stderr)
	case "tenant":
		return tenantCmd(ctx, args[1:], stdout, stderr)
	case "audit":
		return auditCmd(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: hearth <command> [flags]

commands:
  serve    run the FHIR server (SQLite in --data-dir by default, PostgreSQL with --database-url)
  migrate  apply database migrations and exit
  client   client create --name NAME --scope SCOPES: register an OAuth client (confidential,
           --public with --redirect-uri, or --jwks-file/--jwks-url for private_key_jwt)
  user     user create --username NAME [--fhir-user Practitioner/ID] [--roles R] [--password-stdin];
           user passwd / user signout --username NAME
  import   import FILE…: load transaction/batch Bundles (.json) and NDJSON (.ndjson)
  keys     status | rotate | rewrap | shred: field-encryption keys
  tenant   tenant create ID [--name N]: add a tenant; tenant delete ID --yes: destroy a tenant's keys, then delete all of its data
  audit    audit verify: check every tenant's AuditEvent hash chain and report the first break;
           audit purge --older-than D: remove AuditEvents past retention (default 6 years);
           audit report --from YYYY-MM-DD --to YYYY-MM-DD [--organization Organization/ID]:
           access per user by interaction and outcome, and failed logins

Run "hearth <command> -h" for the flags of a command.
`)
}
