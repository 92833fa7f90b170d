// Package raw is the ceiling of Hearth's benchmark: the same work as a
// FHIR create, read, update or token search, done straight through the
// database driver (pgx, modernc.org/sqlite) on the same database, in
// scratch tables of its own that it drops afterwards. A Hearth figure
// divided by the matching raw figure says how much of what the database
// can do the server delivers.
package raw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/fhir/search"
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

// row is one resource version with everything written beside it.
type row struct {
	id          string
	version     int64
	lastUpdated int64 // microseconds since the epoch, as Hearth stores it
	body        []byte
	index       search.Index // the rows Hearth's extractor makes of body
}

// backend is one database's way of doing the work.
type backend interface {
	// create writes the resource row, its history row, its search index
	// rows and an audit row in one transaction.
	create(ctx context.Context, r row, audit []byte) error
	// update replaces version r.version-1 the same way, index rows replaced.
	update(ctx context.Context, r row, audit []byte) error
	// read selects the current version by key; given an audit row, it
	// appends the row in the same transaction, committed before it returns.
	read(ctx context.Context, id string, audit []byte) error
	// search returns the first page (20) of Communications with a status,
	// newest first, joining token_idx to resources; given an audit row,
	// as read does. common says the status is held by commonMatches
	// resources or more, for a backend whose planner cannot tell.
	search(ctx context.Context, status string, common bool, audit []byte) (int, error)
	// insertBundle writes one bundle's rows in one transaction, the
	// resources under ids, now as their last_updated and audit time.
	insertBundle(ctx context.Context, b *importBundle, ids []string, now int64) error
	// load bulk-inserts resource and token rows (no history, other index
	// rows or audit: the searches read only these): seeding, not measured.
	load(ctx context.Context, rows []row) error
	// analyze refreshes the planner's statistics of every scratch table
	// before a workload, as autovacuum would soon, so that plans are for
	// the data.
	analyze(ctx context.Context) error
	// drop removes the scratch tables and closes the connections.
	drop(ctx context.Context) error
	// scratch names the scratch schema (PostgreSQL) or table prefix (SQLite).
	scratch() string
	notes() []string
}

// scratchTables are the tables of both backends' schemas, in the order
// SQLite drops them.
func scratchTables() []string {
	return []string{"audit_events", "token_idx", "string_idx", "date_idx", "number_idx", "quantity_idx",
		"reference_idx", "uri_idx", "resource_history", "resources"}
}

// Runner runs the raw workloads on one database.
type Runner struct {
	target       string
	b            backend
	opt          Options
	readIDs      []string
	searchSeeded bool            // seedSearch has run
	searchCommon map[string]bool // the statuses of commonMatches seeded rows or more
	imports      *importSet      // prepareImport has run
	template     search.Index    // W1's Communication's index rows (communication)
	// Ids the Communications' references point to (communication).
	patients, practitioners []string
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
	for i := range out {
		out[i].Setup = r.analyzed(out[i].Setup)
	}
	return out
}

// analyzed runs setup, then refreshes the planner's statistics of every
// scratch table, as Hearth's store does when tables have grown (and
// autovacuum would): without them PostgreSQL plans raw-update's index
// row deletes over the wrong index once raw-create has filled the tables
// (a scan of every Communication's date rows, ~25 ms per update).
func (r *Runner) analyzed(setup func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		if setup != nil {
			if err := setup(ctx); err != nil {
				return err
			}
		}
		return r.b.analyze(ctx)
	}
}

func (r *Runner) rng(i int) *rand.Rand { return rand.New(rand.NewPCG(r.opt.RandSeed, uint64(i)+1)) }

// communication is a new version of W1's Communication with the search
// index rows Hearth writes for it: every R4 Communication parameter the
// body has (token 3, string 1, date 2, reference 5). Extracting them is
// Hearth's work, not the database's, so they are the template's rows with
// the resource's own status, a new identifier, its sent and received
// times (W1 sends each message at the time it creates it), and subject, sender and
// recipients drawn from pools as large as the load generator's (10
// Patients, 20 Practitioners), so that the reference index rows spread
// over as many keys as W1's do.
func (r *Runner) communication(id string, version int64, status string) row {
	ix := r.template
	ix.Tokens = slices.Clone(ix.Tokens)
	for i, t := range ix.Tokens {
		switch t.Param {
		case "status":
			ix.Tokens[i].Code = status
		case "identifier":
			ix.Tokens[i].Code = "urn:uuid:" + uuid.NewString()
		}
	}
	now := time.Now()
	sent := now.Truncate(time.Second).UnixMicro()
	ix.Dates = slices.Clone(ix.Dates)
	for i, d := range ix.Dates {
		switch d.Param {
		case "sent":
			ix.Dates[i].Low = sent
		case "received":
			ix.Dates[i].Low = sent + loadgen.ReceivedAfter.Microseconds()
		}
		ix.Dates[i].High = ix.Dates[i].Low + time.Second.Microseconds() - 1 // to the second
	}
	ix.References = slices.Clone(ix.References)
	patient := r.patients[rand.IntN(len(r.patients))]
	for i, ref := range ix.References {
		switch ref.TargetType {
		case "Patient":
			ix.References[i].TargetID = patient
		case "Practitioner":
			ix.References[i].TargetID = r.practitioners[rand.IntN(len(r.practitioners))]
		}
	}
	return row{id: id, version: version, lastUpdated: now.UnixMicro(),
		body: loadgen.SampleCommunication(id, status, now), index: ix}
}

// newRunner is a runner on backend b, with the index rows of W1's
// Communication from Hearth's extractor.
func newRunner(target string, b backend, opt Options) (*Runner, error) {
	reg, err := search.NewRegistry()
	if err != nil {
		return nil, errors.Join(err, b.drop(context.Background()))
	}
	ix, err := reg.Index("Communication", loadgen.SampleCommunication("template", loadgen.BackgroundStatus, time.Now()), "")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("raw: index rows of the sample Communication: %w", err), b.drop(context.Background()))
	}
	r := &Runner{target: target, b: b, opt: opt, template: ix}
	for range loadgen.RefPatients {
		r.patients = append(r.patients, newID())
	}
	for range loadgen.RefPractitioners {
		r.practitioners = append(r.practitioners, newID())
	}
	return r, nil
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
