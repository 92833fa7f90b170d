package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
)

const userUsage = `usage:
  hearth user create --username NAME [--fhir-user Practitioner/ID] [--roles a,b] [--organization Organization/ID]
                     [--verified] [--tenant T] [--password-stdin]
  hearth user passwd --username NAME [--tenant T]     (new password on stdin; signs the user out everywhere)
  hearth user signout --username NAME [--tenant T]    (revokes every session and refresh token)
all take --data-dir DIR | --database-url URL`

// user handles "hearth user …". Passwords are read from standard input,
// never from flags, so they stay out of shell history and process lists.
func user(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", userUsage)
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	username := fs.String("username", "", "the name the user logs in with (required)")
	tenant := fs.String("tenant", defaultTenant, "tenant the user belongs to")
	fhirUser := fs.String("fhir-user", "", "the resource the user is: Practitioner/ID, Patient/ID or RelatedPerson/ID")
	roles := fs.String("roles", "", "comma-separated roles, e.g. practitioner,admin (see docs/access-policy.md)")
	org := fs.String("organization", "", "the user's organisation, Organization/ID")
	verified := fs.Bool("verified", false, "the user is vetted (a verified practitioner)")
	pwStdin := fs.Bool("password-stdin", false, "create: read a password from standard input (otherwise the user signs in through an identity provider only)")
	tokenTTL := fs.Duration("token-ttl", 24*time.Hour, "the longest access-token lifetime of the servers (how long revocations are kept)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return fmt.Errorf("--username is required\n%s", userUsage)
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	users, ok := st.(store.Users)
	if !ok {
		return fmt.Errorf("this store does not keep users")
	}
	switch args[0] {
	case "create":
		var pw string
		if *pwStdin {
			if pw, err = readPassword(stdin); err != nil {
				return err
			}
		}
		u, err := auth.CreateUser(ctx, st, users, auth.NewUser{Tenant: *tenant, Username: *username, Password: pw,
			FhirUser: *fhirUser, Roles: strings.Split(*roles, ","), Organization: *org, Verified: *verified})
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(map[string]any{"id": u.ID, "username": u.Username, "tenant": u.Tenant,
			"fhirUser": u.FhirUser, "roles": u.Roles})
	case "passwd", "signout":
		u, err := users.UserByName(ctx, *tenant, *username)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if args[0] == "passwd" {
			pw, err := readPassword(stdin)
			if err != nil {
				return err
			}
			err = auth.SetPassword(ctx, users, u.Tenant, u.ID, pw, now, *tokenTTL)
			if err != nil {
				return err
			}
		} else if err := auth.SignOutEverywhere(ctx, users, u.Tenant, u.ID, now, *tokenTTL); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: every session and refresh token revoked\n", u.Username)
		return nil
	}
	return fmt.Errorf("unknown user command %q\n%s", args[0], userUsage)
}

// readPassword reads one line from r.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", fmt.Errorf("no password on standard input")
	}
	return pw, nil
}
