package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
)

// serve runs the FHIR server until ctx ends (SIGINT/SIGTERM).
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sf storageFlags
	sf.register(fs)
	var ef encryptionFlags
	ef.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	baseURL := fs.String("base-url", "", "external URL of the server (default http://ADDR); the token issuer")
	maxBody := fs.Int64("max-body-bytes", 16<<20, "largest request body accepted (413 above)")
	maxEntries := fs.Int("max-bundle-entries", 10000, "largest batch or transaction Bundle accepted (413 above)")
	updateCreate := fs.Bool("update-create", true, "let PUT create a resource with a client-chosen id")
	maxSearch := fs.Int("max-search-count", 1000, "largest search page; _count is capped to it")
	tokenTTL := fs.Duration("token-ttl", time.Hour, "lifetime of issued access tokens")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	policyDir := fs.String("policy-dir", "", "directory of Rego files that replace or extend the default access policy (watched)")
	hideForbidden := fs.Bool("hide-forbidden", false, "answer reads the access policy denies with 404 instead of 403")
	var login auth.LoginPolicy
	fs.IntVar(&login.MaxFailures, "lockout-failures", 5, "failed logins in a row that lock an account")
	fs.DurationVar(&login.LockoutDuration, "lockout-duration", 15*time.Minute, "how long a locked account stays locked")
	fs.DurationVar(&login.IdleTimeout, "session-idle-timeout", 2*time.Hour, "a login session unused this long ends")
	fs.DurationVar(&login.SessionLifetime, "session-lifetime", 12*time.Hour, "a login session this old ends")
	mfaTenants := fs.String("mfa-tenants", "", "comma-separated tenants whose users must use TOTP (\"*\": all)")
	mfaRoles := fs.String("mfa-roles", "", "comma-separated roles whose users must use TOTP")
	refreshTTL := fs.Duration("refresh-token-ttl", 30*24*time.Hour, "lifetime of offline_access refresh tokens")
	ratePerMinute := fs.Float64("auth-rate-limit", 120, "login and token requests per minute per client IP and per client")
	pprofAddr := fs.String("pprof-addr", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (off when empty)")
	trustedFile := fs.String("trusted-issuers", "", "JSON file listing trusted external OpenID providers (see docs/smart.md)")
	retentionDays := fs.Int("audit-retention", int(audit.DefaultRetention/(24*time.Hour)),
		"days AuditEvents are kept: a purge job removes older ones at start and every 24 hours (0: keep them all)")
	metricsAddr := fs.String("metrics-addr", "",
		"serve Prometheus metrics at /metrics on this address, a listener of its own without authentication "+
			"(bind it to loopback or an internal network); default: no metrics")
	if err := fs.Parse(args); err != nil {
		return err
	}
	setGCPercent()
	if *retentionDays < 0 {
		return fmt.Errorf("--audit-retention must be a number of days, 0 to keep everything")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	// zitadel's op logs to slog's default logger whatever it is given, so
	// the binary (never a library) points the default at ours.
	slog.SetDefault(log)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *baseURL == "" {
		*baseURL = "http://" + ln.Addr().String()
	}
	st, kr, err := openEncrypted(ctx, sf, ef)
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()
	kr.warn(log)
	warnUndurable(ctx, st, log)
	if err := kr.check(ctx); err != nil {
		ln.Close()
		return err
	}

	cfg := app.DefaultConfig(*baseURL)
	cfg.Encryption = kr.engineEncryption(log)
	cfg.MaxBodyBytes, cfg.UpdateCreate, cfg.TokenTTL, cfg.Version = *maxBody, *updateCreate, *tokenTTL, version
	cfg.MaxEntries, cfg.MaxSearch = *maxEntries, *maxSearch
	cfg.PolicyDir, cfg.HideForbidden = *policyDir, *hideForbidden
	login.MFATenants, login.MFARoles = splitList(*mfaTenants), splitList(*mfaRoles)
	cfg.Login, cfg.RefreshTTL = login, *refreshTTL
	cfg.RateLimit = auth.RateLimit{PerMinute: *ratePerMinute, Burst: max(*ratePerMinute/2, 5)}
	if *trustedFile != "" {
		raw, err := os.ReadFile(*trustedFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &cfg.TrustedIssuers); err != nil {
			return fmt.Errorf("--trusted-issuers: %w", err)
		}
	}
	cfg.Metrics = *metricsAddr != ""
	a, err := app.Assemble(ctx, cfg, st, log)
	if err != nil {
		return err
	}

	stopAuditJobs := startAuditJobs(ctx, st, time.Duration(*retentionDays)*24*time.Hour,
		strings.TrimSuffix(*baseURL, "/")+"/fhir", log)
	defer stopAuditJobs()

	if *pprofAddr != "" {
		if err := servePprof(ctx, *pprofAddr, log); err != nil {
			return err
		}
	}
	errorLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	servers := []*http.Server{{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog}}
	listeners := []net.Listener{ln}
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.Metrics)
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errorLog})
		listeners = append(listeners, mln)
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	log.Info("hearth listening", "addr", ln.Addr().String(), "base_url", *baseURL, "store", sf.kind())
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) && serveErr == nil {
			serveErr = err
		}
	}
	return serveErr
}

// startAuditJobs runs the audit log's background jobs until the returned
// function is called (or ctx ends): the index of AuditEvent search, kept a
// few seconds behind the chains, and the retention purge (keep 0: none).
// The returned function waits for passes in flight, so the store outlives
// them.
func startAuditJobs(ctx context.Context, st store.Store, keep time.Duration, fhirBase string, log *slog.Logger) (stop func()) {
	auditLog, ok := st.(store.AuditLog)
	if !ok {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { audit.Indexing{Log: auditLog, Base: fhirBase, Logger: log}.Run(ctx) })
	if keep > 0 {
		wg.Go(func() { audit.Retention{Log: auditLog, Keep: keep, Logger: log}.Run(ctx) })
		log.Info("audit retention on", "keep_days", int(keep/(24*time.Hour)))
	} else {
		log.Info("audit retention off: AuditEvents are kept until purged by hand")
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// serveGCPercent is the server's GOGC unless the environment sets one:
// collecting at 200 % heap growth instead of Go's 100 % cut the server's
// CPU per create by ~7 % (W1 at 16 clients, 1,056-1,089 -> 971-1,014 µs)
// for ~35 MiB more resident memory (docs/decisions.md).
const serveGCPercent = 200

func setGCPercent() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
