// Command hearth-bench measures a FHIR server and the database beneath it.
//
//	hearth-bench run     --base-url URL [auth]      HTTP workloads W1–W8 against any FHIR R4 server
//	hearth-bench raw     --database-url URL | --sqlite PATH   the driver-level ceiling
//	hearth-bench compare --base-url URL [auth] --database-url URL | --sqlite PATH
//	                                                 both, interleaved, each Hearth figure as a share of its ceiling
//
// It speaks only standard FHIR REST to the base URL, so it runs against
// Hearth, HAPI, Medplum or Blaze alike, and it refuses hosts that are not
// loopback unless --allow-remote is given. See docs/benchmarks.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hearth-bench:", err)
		os.Exit(1)
	}
}

// errUsage is returned after usage has been printed.
var errUsage = errors.New("see usage above")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "run", "raw", "compare":
		cfg, err := parseFlags(args[0], args[1:], stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			return err
		}
		return bench(ctx, cfg, stdout, stderr)
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: hearth-bench <command> [flags]

commands:
  run      HTTP workloads against a FHIR base URL (W1 create, W2 read, W3 token search,
           W4 _include, W5 Synthea transactions, W6 update with If-Match, W7 mixed CRUD,
           W8 paging through every Communication)
  raw      the same work straight through the database driver: the ceiling
           (--database-url postgres://... or --sqlite PATH)
  compare  both on the database Hearth uses, each level followed at once by its ceiling;
           prints every Hearth figure as a ratio of its ceiling

Run "hearth-bench <command> -h" for the flags.
`)
}
