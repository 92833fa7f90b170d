// Package engine performs every FHIR interaction as a Go call. It is the one
// road to the data: HTTP handlers, batch entries and automations all call it,
// so access checks, validation, indexing (and, as they land, policy, field
// encryption and audit) apply to every caller alike. It knows nothing of HTTP.
package engine

import (
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// Principal is the authenticated caller of an interaction.
type Principal struct {
	Tenant   string
	Subject  string // user or client id
	ClientID string
	FhirUser string    // e.g. Practitioner/123, when a user is behind the call
	Scopes   scope.Set // granted SMART scopes

	// Who a user is, for access policy (see docs/access-policy.md). Kind
	// is user, client or bot; empty means a client unless FhirUser is set.
	Kind         string
	Roles        []string
	Organization string // e.g. Organization/9
	Verified     bool
	// LaunchPatient is the launch patient's id: patient/ scopes grant
	// access to that patient's compartment only.
	LaunchPatient string

	// Address is the client's network address, a fact of the request.
	Address string
}

// Ref names one version of a resource an interaction touched.
type Ref struct {
	Type    string
	ID      string
	Version int64
}

// Result is what an interaction returns: the record (when there is one) and
// what happened, for the caller's response and for audit.
type Result struct {
	Record  store.Record
	Created bool // a new resource came into being (create, update-as-create)
	NoOp    bool // nothing changed (conditional create matched, delete of a missing resource)
	Touched []Ref
}

func resultOf(r store.Record, created bool) Result {
	return Result{Record: r, Created: created, Touched: []Ref{{r.Type, r.ID, r.Version}}}
}

// Config holds the behaviour switches of the engine.
type Config struct {
	// UpdateCreate lets PUT create a resource with a client-chosen id.
	UpdateCreate bool
	// DefaultHistoryCount and MaxHistoryCount bound history pages.
	DefaultHistoryCount int
	MaxHistoryCount     int
	// DefaultSearchCount and MaxSearchCount bound search pages (_count).
	DefaultSearchCount int
	MaxSearchCount     int
	// SearchTimeout bounds one search's time in the database (0: none), so
	// that a bad plan cannot hold a connection for minutes.
	SearchTimeout time.Duration
	// BaseURL is the FHIR base URL (http://host/fhir): absolute references
	// under it are indexed and searched as local ones. Optional.
	BaseURL string
	// MaxBundleEntries bounds batch and transaction Bundles (413 above).
	MaxBundleEntries int
	// HideForbidden answers a read the policy denies with 404, as if the
	// resource did not exist, instead of 403.
	HideForbidden bool
}

// DefaultConfig is what a production server uses unless told otherwise.
func DefaultConfig() Config {
	return Config{UpdateCreate: true, DefaultHistoryCount: 50, MaxHistoryCount: 1000, MaxBundleEntries: 10000,
		DefaultSearchCount: 20, MaxSearchCount: 1000, SearchTimeout: 30 * time.Second}
}

// Engine performs interactions against a store.
type Engine struct {
	store     store.Resources
	validator *fhir.Validator
	cfg       Config
	now       func() time.Time
	newID     func() string
	registry  *search.Registry
	policy    Decider  // nil: scopes alone decide
	audit     *Auditor // nil: nothing is audited
	// commitOpts configure the audit committer, made after every option.
	commitOpts []audit.CommitterOption
}

// Option sets an optional engine dependency.
type Option func(*Engine)

// WithClock injects the clock (tests pin time with it).
func WithClock(now func() time.Time) Option { return func(e *Engine) { e.now = now } }

// WithCommitObserver has observe hear of every commit of the audit
// committer (metrics).
func WithCommitObserver(observe audit.CommitObserver) Option {
	return func(e *Engine) { e.commitOpts = append(e.commitOpts, audit.WithCommitObserver(observe)) }
}

// WithIDs injects the id generator for server-assigned ids.
func WithIDs(newID func() string) Option { return func(e *Engine) { e.newID = newID } }

// WithRegistry shares a search parameter registry (building one takes a
// few tens of milliseconds).
func WithRegistry(r *search.Registry) Option { return func(e *Engine) { e.registry = r } }

// New returns an engine over st. Without WithRegistry it builds the R4
// search parameter registry, which only fails if the embedded definitions
// are broken: a bug, so it panics.
func New(st store.Resources, v *fhir.Validator, cfg Config, opts ...Option) *Engine {
	e := &Engine{store: st, validator: v, cfg: cfg, now: time.Now, newID: fhir.NewID}
	for _, o := range opts {
		o(e)
	}
	if e.registry == nil {
		r, err := search.NewRegistry()
		if err != nil {
			panic(err)
		}
		e.registry = r
	}
	if e.audit != nil {
		// After every option: the committer writes through the store as
		// the options left it (encryption wraps it).
		e.audit.Committer = audit.NewCommitter(e.store, e.commitOpts...)
	}
	return e
}

// stamp returns the time for a new version, truncated to what stores keep.
func (e *Engine) stamp() time.Time {
	return e.now().UTC().Truncate(time.Microsecond)
}

// tenantOf refuses a principal without a tenant: closed by default.
func tenantOf(p Principal) (string, error) {
	if p.Tenant == "" {
		return "", fhir.Errorf(fhir.KindUnauthorized, "no tenant in credentials")
	}
	return p.Tenant, nil
}
