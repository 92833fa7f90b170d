package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// migrate applies the embedded migrations and exits.
func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}
