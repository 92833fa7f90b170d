package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

const tenantUsage = `usage: hearth tenant delete <id> --yes [flags]

  delete   destroy the tenant's encryption keys, then delete every row it owns: its
           resources, history, audit log, users and clients. With the keys gone, no copy
           of its encrypted data, database backups included, can be read again.`

// tenantCmd handles "hearth tenant …".
func tenantCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "delete" {
		return errors.New(tenantUsage)
	}
	fs := flag.NewFlagSet("tenant delete", flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	var ef encryptionFlags
	ef.register(fs)
	yes := fs.Bool("yes", false, "really delete: there is no undo")
	// The id may come before the flags or after them.
	rest, id := args[1:], ""
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		id, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return errors.New(tenantUsage)
	}
	if id == "" {
		return errors.New(tenantUsage)
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
