package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

const tenantUsage = `usage: hearth tenant create <id> [--name NAME] [flags]
       hearth tenant delete <id> --yes [flags]

  create   add a tenant, so that clients and users can be registered in it; its
           encryption keys are made when it first stores data. An id is 1 to 64
           letters, digits, '-', '.' or '_', starting with a letter or digit.
  delete   destroy the tenant's encryption keys, then delete every row it owns: its
           resources, history, audit log, users and clients. With the keys gone, no copy
           of its encrypted data, database backups included, can be read again.`

// tenantIDPattern is what a tenant id may be: it names key files and
// appears in logs and tokens, so nothing that needs quoting.
var tenantIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// tenantCmd handles "hearth tenant …".
func tenantCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(tenantUsage)
	}
	switch args[0] {
	case "create":
		return tenantCreate(ctx, args[1:], stdout)
	case "delete":
		return tenantDelete(ctx, args[1:], stdout, stderr)
	}
	return errors.New(tenantUsage)
}

// tenantArgs parses a tenant command's flags and its one id, which may
// come before the flags or after them.
func tenantArgs(fs *flag.FlagSet, args []string) (string, error) {
	id := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return "", errors.New(tenantUsage)
	}
	if id == "" {
		return "", errors.New(tenantUsage)
	}
	return id, nil
}

// tenantCreate handles "hearth tenant create".
func tenantCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenant create", flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	name := fs.String("name", "", "display name (default: the id)")
	id, err := tenantArgs(fs, args)
	if err != nil {
		return err
	}
	if !tenantIDPattern.MatchString(id) {
		return fmt.Errorf("tenant id %q: use 1 to 64 letters, digits, '-', '.' or '_', starting with a letter or digit", id)
	}
	if *name == "" {
		*name = id
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.GetTenant(ctx, id); err == nil {
		fmt.Fprintf(stdout, "tenant %s exists\n", id)
		return nil
	} else if !fhir.IsKind(err, fhir.KindNotFound) {
		return err
	}
	if err := st.EnsureTenant(ctx, store.Tenant{ID: id, Name: *name, CreatedAt: time.Now().UTC()}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tenant %s created\n", id)
	return nil
}

// tenantDelete handles "hearth tenant delete".
func tenantDelete(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tenant delete", flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	var ef encryptionFlags
	ef.register(fs)
	yes := fs.Bool("yes", false, "really delete: there is no undo")
	id, err := tenantArgs(fs, args)
	if err != nil {
		return err
	}
	if !*yes {
		return fmt.Errorf("this destroys the keys of tenant %q and deletes all of its data for good; run again with --yes", id)
	}
	st, kr, err := openEncrypted(ctx, sf, ef)
	if err != nil {
		return err
	}
	defer st.Close()
	eng, err := kr.engine(ctx, st, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	n, err := eng.DeleteTenant(ctx, id)
	if err != nil {
		return err
	}
	if kr == nil {
		fmt.Fprintf(stdout, "tenant %s: %d rows deleted (encryption was off: backups still hold its data in the clear)\n", id, n)
		return nil
	}
	fmt.Fprintf(stdout, "tenant %s: keys destroyed, %d rows deleted. Remove %s from every backup of the tenant key directory too.\n",
		id, n, kr.tenants.Path(id))
	return nil
}
