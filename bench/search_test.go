package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// TestSearchLoad measures search on PostgreSQL over a generated data set:
// HEARTH_SEARCH_BENCH=100000 go test ./bench -run SearchLoad -v -timeout 1h
//
// The data (one tenant, in schema bench_search_N of the test database,
// kept between runs) is 1% Organizations, 20% Patients and the rest
// Observations, with skewed codes: most Observations share a few codes,
// the others spread over 500 rare ones. Each query shape runs for
// HEARTH_SEARCH_SECONDS (default 10) on 4 goroutines through engine.Search,
// with varying values; the test logs p50, p99 and queries per second, and
// the EXPLAIN ANALYZE of one query of each shape.
func TestSearchLoad(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("HEARTH_SEARCH_BENCH"))
	if n <= 0 {
		t.Skip("set HEARTH_SEARCH_BENCH to the number of resources (e.g. 100000)")
	}
	seconds, _ := strconv.Atoi(os.Getenv("HEARTH_SEARCH_SECONDS"))
	if seconds <= 0 {
		seconds = 10
	}
	ctx := context.Background()
	db := benchDB(t, n)
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	data := genData(n)
	loadData(t, db, reg, data)
	validator, err := fhir.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, validator, engine.DefaultConfig(), engine.WithRegistry(reg))
	p := engine.Principal{Tenant: benchTenant, Scopes: mustScopes(t, "system/*.cruds")}

	rareCode := func(r *rand.Rand) string { return fmt.Sprintf("rare-%d", r.IntN(500)) }
	shapes := []struct {
		name  string
		typ   string
		query func(r *rand.Rand) string
	}{
		{"token (rare code)", "Observation", func(r *rand.Rand) string {
			return "code=" + url.QueryEscape("http://loinc.org|"+rareCode(r)) + "&_total=none"
		}},
		{"token (common code, 60%)", "Observation", func(r *rand.Rand) string {
			return "code=" + url.QueryEscape("http://loinc.org|8302-2") + "&_total=none"
		}},
		{"token + total", "Observation", func(r *rand.Rand) string {
			return "code=" + url.QueryEscape("http://loinc.org|"+rareCode(r)) + "&_total=accurate"
		}},
		{"string prefix", "Patient", func(r *rand.Rand) string {
			return "family=" + url.QueryEscape(strings.ToLower(data.surnames[r.IntN(len(data.surnames))][:3])) + "&_total=none"
		}},
		{"date range (1 month)", "Observation", func(r *rand.Rand) string {
			m := time.Date(2015+r.IntN(9), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
			return "date=ge" + m.Format("2006-01-02") + "&date=lt" + m.AddDate(0, 1, 0).Format("2006-01-02") + "&_total=none"
		}},
		{"reference", "Observation", func(r *rand.Rand) string {
			return "subject=Patient/" + data.patients[r.IntN(len(data.patients))] + "&_total=none"
		}},
		{"chain subject:Patient.family", "Observation", func(r *rand.Rand) string {
			return "subject:Patient.family=" + url.QueryEscape(strings.ToLower(data.surnames[r.IntN(len(data.surnames))])) + "&_total=none"
		}},
		{"_include subject", "Observation", func(r *rand.Rand) string {
			return "code=" + url.QueryEscape("http://loinc.org|"+rareCode(r)) + "&_include=Observation:subject&_total=none"
		}},
		{"sort by date desc", "Observation", func(r *rand.Rand) string {
			return "code=" + url.QueryEscape("http://loinc.org|"+rareCode(r)) + "&_sort=-date&_total=none"
		}},
	}
	var report strings.Builder
	fmt.Fprintf(&report, "\n%-32s %8s %8s %8s %10s\n", "search", "p50 ms", "p99 ms", "q/s", "results")
	for _, sh := range shapes {
		lat, results, qps := run(t, ctx, eng, p, sh.typ, sh.query, time.Duration(seconds)*time.Second)
		fmt.Fprintf(&report, "%-32s %8.2f %8.2f %8.0f %10.1f\n", sh.name, ms(lat, 50), ms(lat, 99), qps, results)
	}
	t.Log(report.String())
	for _, sh := range shapes {
		q, err := reg.Parse(sh.typ, sh.query(rand.New(rand.NewPCG(1, 2))), search.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := db.ExplainSearch(ctx, benchTenant, store.SearchQuery{Types: q.Types, Where: q.Criteria, Sort: q.Sort, Count: 20})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("EXPLAIN %s:\n%s", sh.name, plan)
	}
}

const benchTenant = "bench"

func mustScopes(t testing.TB, s string) scope.Set {
	t.Helper()
	set, err := scope.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// run issues queries on 4 goroutines for d and returns the latencies, the
// mean page size and the rate.
func run(t *testing.T, ctx context.Context, eng *engine.Engine, p engine.Principal, typ string,
	query func(*rand.Rand) string, d time.Duration) ([]time.Duration, float64, float64) {
	var mu sync.Mutex
	var lat []time.Duration
	var results int
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for time.Now().Before(deadline) {
				q := query(r)
				start := time.Now()
				res, err := eng.Search(ctx, p, engine.SearchRequest{Type: typ, Query: q})
				el := time.Since(start)
				if err != nil {
					t.Errorf("%s?%s: %v", typ, q, err)
					return
				}
				mu.Lock()
				lat = append(lat, el)
				results += len(res.Page.Records) + len(res.Page.Included)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, float64(results) / float64(max(len(lat), 1)), float64(len(lat)) / d.Seconds()
}

func ms(lat []time.Duration, pct int) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return float64(s[min(len(s)-1, len(s)*pct/100)].Microseconds()) / 1000
}

// benchDB opens (creating if needed) the schema bench_search_N.
func benchDB(t *testing.T, n int) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		base = pgtest.DefaultURL
	}
	schema := "bench_search_" + strconv.Itoa(n)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+schema); err != nil {
		t.Fatal(err)
	}
	admin.Close(ctx)
	u, _ := url.Parse(base)
	qv := u.Query()
	qv.Set("search_path", schema)
	u.RawQuery = qv.Encode()
	db, err := postgres.Open(ctx, u.String(), postgres.WithMaxConns(8))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// benchData is the generated data set.
type benchData struct {
	resources [][2]string // type, JSON
	patients  []string
	surnames  []string
}

func genData(n int) benchData {
	r := rand.New(rand.NewPCG(42, 42))
	var d benchData
	for i := range 1000 {
		d.surnames = append(d.surnames, fmt.Sprintf("%s%s", []string{"Sm", "Jo", "Mü", "Ga", "Ng", "Ol", "Ko", "Pé"}[i%8],
			strings.Repeat(string(rune('a'+i%26)), 1+i%3)+fmt.Sprintf("son%03d", i)))
	}
	orgs := max(n/100, 1)
	pats := n / 5
	for i := range orgs {
		d.resources = append(d.resources, [2]string{"Organization",
			fmt.Sprintf(`{"resourceType":"Organization","id":"org%d","name":"Organization %d"}`, i, i)})
	}
	for i := range pats {
		id := fmt.Sprintf("pat%d", i)
		d.patients = append(d.patients, id)
		// Zipf-like: low-numbered surnames are far more common.
		sur := d.surnames[int(float64(len(d.surnames))*r.Float64()*r.Float64())]
		birth := time.Date(1930+r.IntN(90), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
		d.resources = append(d.resources, [2]string{"Patient", fmt.Sprintf(
			`{"resourceType":"Patient","id":%q,"name":[{"family":%q,"given":["Given%d"]}],"gender":%q,"birthDate":%q,"managingOrganization":{"reference":"Organization/org%d"}}`,
			id, sur, i%97, []string{"male", "female"}[i%2], birth.Format("2006-01-02"), r.IntN(orgs))})
	}
	for i := range n - orgs - pats {
		code := "rare-" + strconv.Itoa(r.IntN(500))
		switch x := r.Float64(); {
		case x < 0.6:
			code = "8302-2"
		case x < 0.8:
			code = "29463-7"
		}
		at := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(9 * 365 * 24 * time.Hour))))
		d.resources = append(d.resources, [2]string{"Observation", fmt.Sprintf(
			`{"resourceType":"Observation","id":"obs%d","status":"final","code":{"coding":[{"system":"http://loinc.org","code":%q}]},"subject":{"reference":"Patient/%s"},"effectiveDateTime":%q,"valueQuantity":{"value":%d,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}`,
			i, code, d.patients[r.IntN(pats)], at.Format(time.RFC3339), 50+r.IntN(150))})
	}
	return d
}

// loadData writes the data set unless the schema already holds it, in
// transactions of 1,000 pipelined writes, then analyzes the tables.
func loadData(t *testing.T, db *postgres.DB, reg *search.Registry, d benchData) {
	ctx := context.Background()
	page, err := db.Search(ctx, benchTenant, store.SearchQuery{Total: true})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total == int64(len(d.resources)) {
		return
	}
	if page.Total != 0 {
		t.Fatalf("schema holds %d resources, not %d: drop it", page.Total, len(d.resources))
	}
	if err := db.EnsureTenant(ctx, store.Tenant{ID: benchTenant, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for lo := 0; lo < len(d.resources); lo += 1000 {
		var ws []store.Write
		for _, r := range d.resources[lo:min(lo+1000, len(d.resources))] {
			var head struct{ ID string }
			_ = json.Unmarshal([]byte(r[1]), &head)
			ix, err := reg.Index(r[0], []byte(r[1]), "")
			if err != nil {
				t.Fatal(err)
			}
			ws = append(ws, store.Write{Record: store.Record{Type: r[0], ID: head.ID, Version: 1, LastUpdated: now, Body: []byte(r[1])}, Index: ix})
		}
		err := db.Tx(ctx, benchTenant, func(tx store.Tx) error { return tx.(engine.BulkTx).PutAll(ctx, ws) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d resources in %v", len(d.resources), time.Since(start).Round(time.Second))
}
