// Package app wires Hearth's parts into one HTTP handler over a store: the
// validator, the engine, the authorization server and the FHIR API. Both the
// hearth binary and in-process tests build the server through it, so tests
// exercise the same assembly that production runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/metrics"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/server"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/web"
)

// Config is what an operator chooses for a running server.
type Config struct {
	BaseURL      string        // external URL, e.g. http://127.0.0.1:8080; the token issuer
	MaxBodyBytes int64         // request body cap (413 above)
	UpdateCreate bool          // PUT may create
	MaxEntries   int           // largest batch/transaction Bundle (413 above)
	MaxSearch    int           // largest search page (_count is capped to it)
	TokenTTL     time.Duration // access token lifetime
	Version      string        // reported in the CapabilityStatement
	Clock        func() time.Time
	// PolicyDir holds Rego files that replace or extend the default access
	// policy; it is watched and reloaded on change.
	PolicyDir string
	// HideForbidden answers reads the policy denies with 404 instead of 403.
	HideForbidden bool
	// DisableAudit turns the audit log off (benchmarks only: an
	// unaudited server breaks the promise that every access is recorded).
	DisableAudit bool
	// Login, TrustedIssuers, RateLimit and RefreshTTL configure the
	// authorization server (see auth.Config).
	Login          auth.LoginPolicy
	TrustedIssuers []auth.TrustedIssuer
	RateLimit      auth.RateLimit
	RefreshTTL     time.Duration
	// Encryption turns on field encryption (nil: off). Unless it has its
	// own, the server gets Reencryptions over the store, so administrators
	// can rotate keys on the running server (POST /admin/keys/rotate).
	Encryption *engine.Encryption
	// Metrics collects Prometheus metrics, served by Assembly.Metrics.
	Metrics bool
}

// policyPoll is how often the policy directory is checked for changes.
const policyPoll = 2 * time.Second

// DefaultConfig returns production defaults for a base URL.
func DefaultConfig(baseURL string) Config {
	return Config{BaseURL: baseURL, MaxBodyBytes: 16 << 20, UpdateCreate: true, MaxEntries: 10000, TokenTTL: time.Hour, Version: "dev"}
}

// Engine builds the engine over st: the one road to the data, for the HTTP
// server and for commands such as import alike.
func Engine(cfg Config, st store.Store) (*engine.Engine, error) {
	eng, _, err := buildEngine(context.Background(), cfg, st, slog.New(slog.DiscardHandler))
	return eng, err
}

// buildEngine builds the engine with access policy and audit. The policy
// directory is watched, and the audit committer runs, until ctx ends.
// The auditor (nil when audit is off) also records the authorization
// server's events.
func buildEngine(ctx context.Context, cfg Config, st store.Store, log *slog.Logger, extra ...engine.Option) (*engine.Engine, *engine.Auditor, error) {
	validator, err := fhir.NewValidator()
	if err != nil {
		return nil, nil, err
	}
	ecfg := engine.DefaultConfig()
	ecfg.UpdateCreate = cfg.UpdateCreate
	if cfg.MaxEntries > 0 {
		ecfg.MaxBundleEntries = cfg.MaxEntries
	}
	if cfg.MaxSearch > 0 {
		ecfg.MaxSearchCount = cfg.MaxSearch
	}
	if cfg.BaseURL != "" {
		// Absolute references to this server index and search as local ones.
		ecfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/") + "/fhir"
	}
	ecfg.HideForbidden = cfg.HideForbidden
	var opts []engine.Option
	if cfg.Clock != nil {
		opts = append(opts, engine.WithClock(cfg.Clock))
	}
	pol, err := policy.New(ctx, policy.WithDir(cfg.PolicyDir), policy.WithLogger(log))
	if err != nil {
		return nil, nil, err
	}
	if cfg.PolicyDir != "" {
		go pol.Watch(ctx, policyPoll)
	}
	opts = append(opts, engine.WithPolicy(pol))
	if !cfg.DisableAudit {
		var logOpts []audit.LogOption
		if cfg.Clock != nil {
			logOpts = append(logOpts, audit.WithClock(cfg.Clock))
		}
		opts = append(opts, engine.WithAudit(audit.NewLog(audit.ServerRef{Name: "hearth", BaseURL: fhirBase(cfg.BaseURL)}, logOpts...)))
	}
	if cfg.Encryption != nil {
		opts = append(opts, engine.WithEncryption(*cfg.Encryption))
	}
	eng := engine.New(st, validator, ecfg, append(opts, extra...)...)
	// Re-encryptions stop first: the end of each is audited.
	context.AfterFunc(ctx, func() { closeReencryptions(cfg); eng.Close() })
	return eng, eng.Auditor(), nil
}

// withReencryptions gives a server with field encryption its background
// re-encryptions, unless it has them.
func withReencryptions(cfg Config, st store.Store) Config {
	if cfg.Encryption == nil || cfg.Encryption.Reencryptions != nil {
		return cfg
	}
	if bs, ok := st.(crypt.BodyStore); ok {
		enc := *cfg.Encryption
		enc.Reencryptions = crypt.NewReencryptions(enc.Ring, bs)
		cfg.Encryption = &enc
	}
	return cfg
}

func closeReencryptions(cfg Config) {
	if cfg.Encryption != nil && cfg.Encryption.Reencryptions != nil {
		cfg.Encryption.Reencryptions.Close()
	}
}

// authAuditor records the authorization server's events in the same
// per-tenant audit chain as the engine's.
type authAuditor struct{ a *engine.Auditor }

func (x authAuditor) AuthEvent(ctx context.Context, ev auth.AuthEvent) error {
	outcome := audit.Success
	if ev.Failed {
		outcome = audit.MinorFailure
	}
	e := audit.Event{Auth: ev.Kind, Outcome: outcome, OutcomeDesc: ev.Reason, Subject: ev.Subject, FhirUser: ev.FhirUser,
		ClientID: ev.ClientID, IsUser: ev.IsUser, Address: ev.Address}
	if ev.Patient != "" {
		e.Patients = []string{"Patient/" + ev.Patient}
	}
	rec, err := x.a.Log.Record(e)
	if err != nil {
		return err
	}
	return x.a.Committer.Commit(ctx, ev.Tenant, rec)
}

// fhirBase is the FHIR base URL under the server's external URL.
func fhirBase(baseURL string) string {
	if baseURL == "" {
		return ""
	}
	return strings.TrimSuffix(baseURL, "/") + "/fhir"
}

// New assembles the server over st, which must be migrated.
func New(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) (http.Handler, error) {
	a, err := Assemble(ctx, cfg, st, log)
	if err != nil {
		return nil, err
	}
	return a.Handler, nil
}

// Assembly is a built server and the parts tests and commands reach into.
type Assembly struct {
	Handler http.Handler
	Auth    *auth.Server
	Engine  *engine.Engine
	// Metrics serves the Prometheus metrics when Config.Metrics is set
	// (nil otherwise); the caller decides where (a listener of its own).
	Metrics http.Handler
}

// Assemble builds the server over st, which must be migrated.
func Assemble(ctx context.Context, cfg Config, st store.Store, log *slog.Logger) (*Assembly, error) {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	cfg = withReencryptions(cfg, st)
	var m *metrics.Metrics
	var engOpts []engine.Option
	if cfg.Metrics {
		var jobs *crypt.Reencryptions
		if cfg.Encryption != nil {
			jobs = cfg.Encryption.Reencryptions
		}
		m = metrics.New(jobs)
		engOpts = append(engOpts, engine.WithCommitObserver(m.ObserveGroup))
	}
	eng, auditor, err := buildEngine(ctx, cfg, st, log, engOpts...)
	if err != nil {
		return nil, err
	}
	acfg := auth.Config{
		Issuer: cfg.BaseURL, TokenTTL: cfg.TokenTTL, RefreshTTL: cfg.RefreshTTL, Clock: cfg.Clock,
		Login: cfg.Login, TrustedIssuers: cfg.TrustedIssuers, RateLimit: cfg.RateLimit,
	}
	if auditor != nil {
		acfg.Auditor = authAuditor{auditor}
	}
	authServer, err := auth.NewServer(ctx, acfg, st, log)
	if err != nil {
		return nil, fmt.Errorf("authorization server: %w", err)
	}
	pages, err := web.New(authServer, eng, log)
	if err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	// The pages (login, consent …, logout) beside the authorization server.
	mux := http.NewServeMux()
	mux.Handle("/", authServer.Handler())
	mux.Handle("/auth/", pages)
	mux.Handle(auth.PathLogout, pages)
	mux.Handle("/admin/", pages)
	scfg := server.Config{BaseURL: cfg.BaseURL, MaxBodyBytes: cfg.MaxBodyBytes, Version: cfg.Version, UpdateCreate: cfg.UpdateCreate}
	a := &Assembly{Auth: authServer, Engine: eng}
	if m != nil {
		scfg.Observer, a.Metrics = m, m.Handler()
	}
	a.Handler = server.New(eng, server.Bearer(authServer), mux, scfg, log)
	return a, nil
}
