package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
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
	public := fs.Bool("public", false, "a public app (browser or native): no secret, PKCE required")
	var redirects multiFlag
	fs.Var(&redirects, "redirect-uri", "redirect URI for the authorization code grant (repeatable)")
	jwksFile := fs.String("jwks-file", "", "private_key_jwt: a file holding the client's public JWK Set")
	jwksURL := fs.String("jwks-url", "", "private_key_jwt: where the client publishes its JWK Set")
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
	app := auth.App{Tenant: *tenant, Name: *name, Scopes: *scopes, RedirectURIs: redirects, JWKSURL: *jwksURL}
	switch {
	case *public:
		app.AuthMethod = store.AuthNone
	case *jwksFile != "" || *jwksURL != "":
		app.AuthMethod = store.AuthPrivateKeyJWT
		if *jwksFile != "" {
			b, err := os.ReadFile(*jwksFile)
			if err != nil {
				return err
			}
			app.JWKS = string(b)
		}
	}
	id, secret, err := auth.RegisterApp(ctx, st, app)
	if err != nil {
		return err
	}
	// The secret is shown once; only its hash is stored.
	out := map[string]string{"client_id": id, "tenant": *tenant, "scope": *scopes, "token_endpoint_auth_method": auth.MethodOf(app)}
	if secret != "" {
		out["client_secret"] = secret
	}
	return json.NewEncoder(stdout).Encode(out)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
