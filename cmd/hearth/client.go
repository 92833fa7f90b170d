package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/hearth-fhir/hearth/auth"
)

// client handles "hearth client create".
func client(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: hearth client create --name NAME --scope SCOPES [--tenant T] [--data-dir DIR | --database-url URL]")
	}
	fs := flag.NewFlagSet("client create", flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	name := fs.String("name", "", "client name (required)")
	scopes := fs.String("scope", "", "space-separated SMART scopes the client may be granted (required)")
	tenant := fs.String("tenant", defaultTenant, "tenant the client belongs to")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" || *scopes == "" {
		return fmt.Errorf("--name and --scope are required")
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	id, secret, err := auth.RegisterClient(ctx, st, *tenant, *name, *scopes)
	if err != nil {
		return err
	}
	// The secret is shown once; only its hash is stored.
	return json.NewEncoder(stdout).Encode(map[string]string{
		"client_id": id, "client_secret": secret, "tenant": *tenant, "scope": *scopes,
	})
}
