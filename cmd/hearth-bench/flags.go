package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// config is what the flags of one command say.
type config struct {
	mode        string // run, raw, compare
	baseURL     string
	token       string
	clientID    string
	secret      string
	tokenURL    string
	scope       string
	databaseURL string
	sqlitePath  string

	duration        time.Duration
	concurrency     []int
	workloads       []string
	seedCount       int
	readSet         int
	seedConcurrency int
	syntheaDir      string
	serverPID       int
	timeout         time.Duration
	maxOps          uint64
	randSeed        uint64
	allowRemote     bool
	json            bool
	jsonFile        string
	commit          string
}

func parseFlags(mode string, args []string, stderr io.Writer) (config, error) {
	c := config{mode: mode}
	fs := flag.NewFlagSet("hearth-bench "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if mode != "raw" {
		fs.StringVar(&c.baseURL, "base-url", "", "FHIR base URL, e.g. http://127.0.0.1:8080/fhir (required)")
		fs.StringVar(&c.token, "token", "", "bearer token (env HEARTH_BENCH_TOKEN)")
		fs.StringVar(&c.clientID, "client-id", "", "OAuth client id for the client_credentials grant")
		fs.StringVar(&c.secret, "client-secret", "", "OAuth client secret, sent with client_secret_basic (env HEARTH_BENCH_CLIENT_SECRET)")
		fs.StringVar(&c.tokenURL, "token-url", "", "token endpoint (default: from the CapabilityStatement's SMART oauth-uris)")
		fs.StringVar(&c.scope, "scope", "system/*.cruds", "scopes to ask for with client credentials")
		fs.IntVar(&c.serverPID, "server-pid", 0, "PID of the server process: its VmRSS/VmHWM are sampled during each run")
		fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "per-request timeout")
		fs.IntVar(&c.seedConcurrency, "seed-concurrency", 4, "parallel requests while seeding")
	}
	if mode != "run" {
		fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL URL for the raw ceiling (scratch schema, dropped after)")
		fs.StringVar(&c.sqlitePath, "sqlite", "", "SQLite file for the raw ceiling (scratch tables, dropped after)")
	}
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time per workload and concurrency level")
	conc := fs.String("concurrency", "1,4,16", "comma-separated concurrency levels")
	wl := fs.String("workloads", "", "comma-separated workloads (default all): W1,W2,W3,W4,W5,W6,W7,W8")
	fs.IntVar(&c.seedCount, "seed-count", 100_000, "Communications seeded for the searches (W3, W4)")
	fs.IntVar(&c.readSet, "read-set", 1000, "Communications seeded for reads (W2)")
	fs.StringVar(&c.syntheaDir, "synthea-dir", defaultSynthea(), "directory of transaction Bundles for W5 and raw-import")
	fs.Uint64Var(&c.maxOps, "max-ops", 10_000_000, "operations per worker and level at most, beside --duration")
	fs.Uint64Var(&c.randSeed, "rand-seed", 1, "seed of the workers' random choices")
	fs.BoolVar(&c.allowRemote, "allow-remote", false, "allow targets that are not loopback")
	fs.BoolVar(&c.json, "json", false, "print the report as JSON")
	fs.StringVar(&c.jsonFile, "json-file", "", "also write the JSON report to this file")
	fs.StringVar(&c.commit, "commit", buildCommit(), "commit reported with the numbers")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	// Secrets from the environment are read after parsing so that -h never prints them.
	if c.token == "" {
		c.token = os.Getenv("HEARTH_BENCH_TOKEN")
	}
	if c.secret == "" {
		c.secret = os.Getenv("HEARTH_BENCH_CLIENT_SECRET")
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.concurrency, err = parseLevels(*conc); err != nil {
		return c, err
	}
	if *wl != "" {
		c.workloads = strings.Split(*wl, ",")
	}
	return c, c.check()
}

// check rejects combinations that cannot run.
func (c config) check() error {
	switch {
	case c.duration <= 0 || c.duration > time.Hour:
		return fmt.Errorf("--duration must be between 0 and 1h")
	case c.mode != "raw" && c.baseURL == "":
		return fmt.Errorf("--base-url is required")
	case c.mode != "raw" && c.token != "" && c.clientID != "":
		return fmt.Errorf("give --token or --client-id/--client-secret, not both")
	case c.mode != "raw" && c.clientID != "" && c.secret == "":
		return fmt.Errorf("--client-id needs --client-secret")
	case c.mode != "run" && (c.databaseURL == "") == (c.sqlitePath == ""):
		return fmt.Errorf("give one of --database-url or --sqlite")
	case c.seedCount < 1 || c.readSet < 1:
		return fmt.Errorf("--seed-count and --read-set must be positive")
	}
	return nil
}

// parseLevels reads "1,4,16".
func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("--concurrency: %q is not a level between 1 and 1024", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// defaultSynthea is the repository's testdata/synthea (the Synthea sample
// Bundles, gzip-compressed) when the command runs inside the repository
// (found by walking up to go.mod), else testdata/synthea relative to the
// directory.
func defaultSynthea() string {
	rel := filepath.Join("testdata", "synthea")
	dir, err := os.Getwd()
	if err != nil {
		return rel
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, rel)
		}
		if filepath.Dir(d) == d {
			return rel
		}
	}
}

// buildCommit is the VCS revision stamped into the binary, if any.
func buildCommit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && dirty {
		rev += "+dirty"
	}
	return rev
}
