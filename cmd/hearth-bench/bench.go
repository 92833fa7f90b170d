package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/bench/loadgen/raw"
)

// bench runs the command's workloads and prints the report.
func bench(ctx context.Context, c config, stdout, stderr io.Writer) (err error) {
	rep := loadgen.Report{
		Date: time.Now().UTC(), Commit: c.commit, Machine: loadgen.ThisMachine(),
		Duration: c.duration.String(), Concurrency: c.concurrency, SeedCount: c.seedCount,
	}
	settings := loadgen.Settings{Duration: c.duration, Concurrency: c.concurrency, MaxOps: c.maxOps, Progress: stderr}

	var ws []loadgen.Workload
	hs := settings
	hs.Target, hs.ServerPID = "hearth", c.serverPID
	if c.mode != "raw" {
		client, err := httpClient(ctx, c)
		if err != nil {
			return err
		}
		suite := loadgen.NewSuite(client, loadgen.Options{
			SeedCount: c.seedCount, ReadSet: c.readSet, SyntheaDir: c.syntheaDir,
			SeedConcurrency: c.seedConcurrency, RandSeed: c.randSeed, Progress: stderr,
		})
		if ws, err = suite.Workloads(c.workloads); err != nil {
			return err
		}
		if c.serverPID != 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("peak RSS: largest VmRSS of PID %d sampled every 100 ms during each level", c.serverPID))
		}
	}
	var (
		ceilings []loadgen.Workload
		runner   *raw.Runner
	)
	rs := settings
	if c.mode != "run" {
		if runner, err = openRaw(ctx, c, stderr); err != nil {
			return err
		}
		defer func() {
			if cerr := runner.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}()
		rs.Target = runner.Target()
		ceilings = runner.Workloads(c.workloads)
	}
	switch c.mode {
	case "run":
		rep.Results = loadgen.Run(ctx, ws, hs)
	case "raw":
		rep.Results = loadgen.Run(ctx, ceilings, rs)
	default:
		rep.Results = loadgen.Compare(ctx, ws, hs, ceilings, rs)
		rep.Notes = append(rep.Notes, "compare: each level of a workload is followed at once by the same level of its ceiling")
	}
	if runner != nil {
		// After the run: the notes say what the workloads' setup found.
		rep.Notes = append(rep.Notes, runner.Notes()...)
	}
	loadgen.ApplyCeilings(rep.Results)
	if c.mode != "raw" {
		rep.Notes = append(rep.Notes, "HTTP writes send Prefer: return=minimal; Communications outside the W3/W4 set have status "+
			loadgen.BackgroundStatus+" so W3's match counts stay exact")
	}
	if c.jsonFile != "" {
		if err := writeJSONFile(c.jsonFile, rep); err != nil {
			return err
		}
	}
	if c.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteTable(stdout)
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if i := slices.IndexFunc(rep.Results, func(r loadgen.Result) bool { return r.Failed != "" }); i >= 0 {
		return fmt.Errorf("%s %s failed: %s", rep.Results[i].Target, rep.Results[i].Workload, rep.Results[i].Failed)
	}
	return nil
}

// httpClient checks the target and builds the FHIR client with its tokens.
func httpClient(ctx context.Context, c config) (*loadgen.Client, error) {
	if !c.allowRemote {
		if err := loadgen.CheckLoopback("--base-url", c.baseURL); err != nil {
			return nil, err
		}
	}
	conns := slices.Max(c.concurrency)
	var tokens loadgen.TokenSource
	switch {
	case c.token != "":
		tokens = loadgen.StaticToken(c.token)
	case c.clientID != "":
		tokenURL := c.tokenURL
		if tokenURL == "" {
			var err error
			if tokenURL, err = discoverTokenURL(ctx, c.baseURL); err != nil {
				return nil, err
			}
		}
		if !c.allowRemote {
			if err := loadgen.CheckLoopback("token URL", tokenURL); err != nil {
				return nil, err
			}
		}
		cc := &loadgen.ClientCredentials{TokenURL: tokenURL, ClientID: c.clientID, ClientSecret: c.secret, Scope: c.scope,
			HTTP: &http.Client{Timeout: c.timeout}}
		// Fail now, not in the middle of the first workload.
		if _, err := cc.Token(ctx); err != nil {
			return nil, err
		}
		tokens = cc
	}
	return loadgen.NewClient(c.baseURL, tokens, conns, c.timeout), nil
}

// discoverTokenURL reads the token endpoint from the CapabilityStatement's
// SMART oauth-uris extension, the standard place a FHIR server names it.
func discoverTokenURL(ctx context.Context, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/metadata", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return "", fmt.Errorf("discover token URL: %w", err)
	}
	defer resp.Body.Close()
	var cs struct {
		Rest []struct {
			Security struct {
				Extension []struct {
					URL       string `json:"url"`
					Extension []struct {
						URL      string `json:"url"`
						ValueURI string `json:"valueUri"`
					} `json:"extension"`
				} `json:"extension"`
			} `json:"security"`
		} `json:"rest"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&cs); err != nil {
		return "", fmt.Errorf("discover token URL: metadata: %w", err)
	}
	for _, r := range cs.Rest {
		for _, e := range r.Security.Extension {
			if !strings.HasSuffix(e.URL, "/oauth-uris") {
				continue
			}
			for _, x := range e.Extension {
				if x.URL == "token" && x.ValueURI != "" {
					return x.ValueURI, nil
				}
			}
		}
	}
	return "", fmt.Errorf("the CapabilityStatement names no token endpoint; give --token-url")
}

// openRaw opens the raw runner on the configured database.
func openRaw(ctx context.Context, c config, progress io.Writer) (*raw.Runner, error) {
	opt := raw.Options{SeedCount: c.seedCount, ReadSet: c.readSet, SyntheaDir: c.syntheaDir, MaxConns: slices.Max(c.concurrency),
		RandSeed: c.randSeed, AllowRemote: c.allowRemote, Progress: progress}
	if c.databaseURL != "" {
		return raw.OpenPostgres(ctx, c.databaseURL, opt)
	}
	return raw.OpenSQLite(ctx, c.sqlitePath, opt)
}

// writeJSONFile saves the report beside the table printed on stdout.
func writeJSONFile(path string, rep loadgen.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
