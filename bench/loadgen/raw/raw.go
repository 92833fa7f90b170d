// Package raw is the ceiling of Hearth's benchmark: the same work as a
// FHIR create, read, update or token search, done straight through the
// database driver (pgx, modernc.org/sqlite) on the same database, in
// scratch tables of its own that it drops afterwards. A Hearth figure
// divided by the matching raw figure says how much of what the database
// can do the server delivers.
package raw

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hearth-fhir/hearth/bench/loadgen"
)

// tenant is the tenant of every raw row.
const tenant = "bench"

// Options shape the seeded data, as loadgen.Options do for HTTP.
type Options struct {
	SeedCount int // rows seeded for the searches (default 100,000)
	ReadSet   int // rows seeded for reads (default 1,000)
	// SyntheaDir holds the transaction Bundles raw-import writes (W5's).
	SyntheaDir string
	MaxConns   int    // pool size: the highest concurrency (default 16)
	RandSeed   uint64 // seeds the workers' random sources
	// AllowRemote permits a database host that is not loopback.
	AllowRemote bool
	Progress    io.Writer
}

func (o *Options) defaults() {
	if o.SeedCount <= 0 {
		o.SeedCount = 100_000
	}
	if o.ReadSet <= 0 {
		o.ReadSet = 1000
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
}

// token is one token_idx row.
type token struct{ param, system, code string }

// row is one resource version with everything written beside it.
type row struct {
	id          string
	version     int64
	lastUpdated int64 // microseconds since the epoch, as Hearth stores it
	body        []byte
	tokens      []token
}

// backend is one database's way of doing the work.
type backend interface {
	// create writes the resource row, its history row, its token rows and
	// an audit row in one transaction.
	create(ctx context.Context, r row, audit []byte) error
	// update replaces version r.version-1 the same way, tokens replaced.
	update(ctx context.Context, r row, audit []byte) error
	// read selects the current version by key; given an audit row, it
	// appends the row in the same transaction, committed before it returns.
	read(ctx context.Context, id string, audit []byte) error
	// search returns the first page (20) of Communications with a status,
	// newest first, joining token_idx to resources; given an audit row,
	// as read does.
	search(ctx context.Context, status string, audit []byte) (int, error)
	// insertBundle writes one bundle's rows in one transaction, the
	// resources under ids, now as their last_updated and audit time.
	insertBundle(ctx context.Context, b *importBundle, ids []string, now int64) error
	// load bulk-inserts resource and token rows (no history or audit):
	// seeding, not measured.
	load(ctx context.Context, rows []row) error
	// analyze refreshes the planner's statistics after a load, as
	// autovacuum would soon, so that plans are for the data.
	analyze(ctx context.Context) error
	// drop removes the scratch tables and closes the connections.
	drop(ctx context.Context) error
	// scratch names the scratch schema (PostgreSQL) or table prefix (SQLite).
	scratch() string
	notes() []string
}

// Runner runs the raw workloads on one database.
type Runner struct {
	target       string
	b            backend
	opt          Options
	readIDs      []string
	searchSeeded bool       // seedSearch has run
	imports      *importSet // prepareImport has run
}

// Target names the runner in reports: "raw-postgres" or "raw-sqlite".
func (r *Runner) Target() string { return r.target }

// Scratch names the scratch schema (PostgreSQL) or table-name prefix
// (SQLite) the runner works in.
func (r *Runner) Scratch() string { return r.b.scratch() }

// Notes say how the ceiling was measured, and what raw-import's bundles
// hold once it has run.
func (r *Runner) Notes() []string {
	notes := r.b.notes()
	if r.imports != nil {
		notes = append(notes, r.imports.note())
	}
	return notes
}

// Close drops the scratch tables. It uses its own context so that an
// interrupted run still cleans up.
func (r *Runner) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return r.b.drop(ctx)
}

// Ceilings maps the HTTP workloads to the raw workloads that bound them.
func Ceilings() map[string][]string {
	return map[string][]string{
		"W1": {"raw-create"},
		"W2": {"raw-read", "raw-read-audited"},
		"W3": {"raw-search-high", "raw-search-high-audited", "raw-search-low", "raw-search-low-audited",
			"raw-search-unique", "raw-search-unique-audited"},
		"W5": {"raw-import"},
		"W6": {"raw-update"},
	}
}

// Workloads returns the raw workloads that are ceilings of the named HTTP
// workloads (all when names is empty); others have no raw equivalent.
func (r *Runner) Workloads(names []string) []loadgen.Workload {
	want := func(w string) bool {
		return len(names) == 0 || slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, w) })
	}
	var out []loadgen.Workload
	if want("W1") {
		out = append(out, r.createWorkload())
	}
	if want("W2") {
		out = append(out, r.readWorkload(false), r.readWorkload(true))
	}
	if want("W3") {
		out = append(out, r.searchWorkloads()...)
	}
	if want("W5") {
		out = append(out, r.importWorkload())
	}
	if want("W6") {
		out = append(out, r.updateWorkload())
	}
	return out
}

func (r *Runner) rng(i int) *rand.Rand { return rand.New(rand.NewPCG(r.opt.RandSeed, uint64(i)+1)) }

// communication is a new version of a Communication with Hearth's token
// rows for it: status, identifier and category.
func communication(id string, version int64, status string) row {
	ident := "urn:uuid:" + uuid.NewString()
	body := loadgen.SampleCommunication(id, status)
	return row{id: id, version: version, lastUpdated: time.Now().UnixMicro(), body: body, tokens: []token{
		{"status", "http://hl7.org/fhir/event-status", status},
		{"identifier", "urn:ietf:rfc:3986", ident},
		{"category", "http://terminology.hl7.org/CodeSystem/communication-category", "notification"},
	}}
}

// auditEvent is the ~600-byte AuditEvent of a write (IHE BALP shape).
func auditEvent(action, typ, id string, version int64) []byte {
	return auditOf(map[string]string{"C": "create", "U": "update"}[action], action, fmt.Sprintf("%s/%s/_history/%d", typ, id, version))
}

// auditOf is an AuditEvent of the interaction subtype and action on what
// (a reference or a query).
func auditOf(subtype, action, what string) []byte {
	return fmt.Appendf(nil, `{"resourceType":"AuditEvent","type":{"system":"http://terminology.hl7.org/CodeSystem/audit-event-type","code":"rest","display":"RESTful Operation"},`+
		`"subtype":[{"system":"http://hl7.org/fhir/restful-interaction","code":"%s"}],"action":"%s","recorded":"%s","outcome":"0",`+
		`"agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"who":{"identifier":{"system":"urn:hearth:client","value":"bench"}},"requestor":true,"network":{"address":"127.0.0.1","type":"2"}}],`+
		`"source":{"observer":{"display":"hearth-bench raw"},"type":[{"system":"http://terminology.hl7.org/CodeSystem/security-source-type","code":"4"}]},`+
		`"entity":[{"what":{"reference":%q},"type":{"system":"http://terminology.hl7.org/CodeSystem/audit-entity-type","code":"2"}}]}`,
		subtype, action, time.Now().UTC().Format(time.RFC3339Nano), what)
}

// resultRows is what database/sql's and pgx's result rows have in common.
type resultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanPage reads a search page's rows (id, version, last_updated, body)
// into Go values, as a server would, and counts them.
func scanPage(rs resultRows) (int, error) {
	n := 0
	for rs.Next() {
		var (
			id                   string
			version, lastUpdated int64
			body                 []byte
		)
		if err := rs.Scan(&id, &version, &lastUpdated, &body); err != nil {
			return n, err
		}
		n++
	}
	return n, rs.Err()
}

// scratchName is a fresh name for the scratch schema or table prefix.
func scratchName() string {
	return "hearth_bench_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
}
