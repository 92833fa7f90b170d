// Package bench measures Hearth through its full HTTP stack beside the raw
// driver doing the equivalent work on the same database in the same run, so
// every figure comes with its ceiling. Run:
//
//	go test ./bench -run '^$' -bench . -benchtime 5s
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"

	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// communication is a realistic ~1.5 KB secure message.
var communication = `{"resourceType":"Communication","status":"completed",
"identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:2b2f1c1e-6e1f-4c59-9b0e-1a8f6e2f5d11"}],
"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/communication-category","code":"notification"}],"text":"Notification"}],
"priority":"routine","subject":{"reference":"Patient/example","display":"Peter James Chalmers"},
"topic":{"text":"Follow-up on lab results and medication adjustment"},
"sent":"2024-03-14T10:32:00+01:00","received":"2024-03-14T10:32:05+01:00",
"recipient":[{"reference":"Practitioner/f001","display":"Dr. Evelyn van den Berg"},{"reference":"Practitioner/f002","display":"Nurse Jonas Okafor"}],
"sender":{"reference":"Practitioner/f003","display":"Dr. Amara Lindqvist"},
"payload":[{"contentString":"Hello both. The HbA1c came back at 7.9% which is above the target we agreed on at the last visit. I suggest we increase metformin to 1000 mg twice daily and book a follow-up in six weeks. Jonas, could you call the patient to explain the change, check for gastrointestinal side effects at the current dose, and arrange the blood draw for the next visit? Evelyn, please co-sign the new prescription when you have a moment. The patient prefers calls after 4 pm on weekdays and has asked that messages not be left on the home voicemail. Thanks, Amara"},
{"contentString":"Attached: lab summary and the updated medication list are available in the chart under today's encounter."}],
"note":[{"text":"Patient consented to contact by phone; interpreter not needed."}]}`

// target is one backend with a running Hearth and a raw driver beside it.
type target struct {
	srv   *hearthtest.Server
	token string
	raw   rawDB
}

// rawDB is the ceiling: the same row written or read with the driver alone.
type rawDB interface {
	insert(ctx context.Context, id string, body []byte) error
	read(ctx context.Context, id string) ([]byte, error)
	bulk(ctx context.Context, rs []syntheaResource) error
}

func newTarget(tb testing.TB, backend string) *target {
	tb.Helper()
	srv := hearthtest.Start(tb, hearthtest.OpenStore(tb, backend))
	t := &target{srv: srv, token: srv.Token("default", "system/*.cruds")}
	switch backend {
	case "postgres":
		t.raw = openRawPostgres(tb)
	default:
		t.raw = openRawSQLite(tb)
	}
	return t
}

// rawTables mirror the shape of resources and resource_history.
var rawTables = []string{
	`CREATE TABLE raw_resources (tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
	version BIGINT NOT NULL, last_updated BIGINT NOT NULL, body BYTEA, PRIMARY KEY (tenant_id, type, id))`,
	`CREATE TABLE raw_history (tenant_id TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,
	version BIGINT NOT NULL, last_updated BIGINT NOT NULL, body BYTEA, PRIMARY KEY (tenant_id, type, id, version))`,
}

type rawPostgres struct{ pool *pgxpool.Pool }

func openRawPostgres(tb testing.TB) rawPostgres {
	pool, err := pgxpool.New(context.Background(), pgtest.URL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	for _, ddl := range rawTables {
		if _, err := pool.Exec(context.Background(), ddl); err != nil {
			tb.Fatal(err)
		}
	}
	return rawPostgres{pool}
}

func (r rawPostgres) insert(ctx context.Context, id string, body []byte) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO raw_resources VALUES ('default','Communication',$1,1,0,$2)`, id, body)
	return err
}

func (r rawPostgres) read(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := r.pool.QueryRow(ctx, `SELECT body FROM raw_resources WHERE tenant_id='default' AND type='Communication' AND id=$1`, id).Scan(&b)
	return b, err
}

// rawSQLite uses the store's durability settings: WAL, synchronous=FULL, one writer.
type rawSQLite struct{ write, read_ *sql.DB }

func openRawSQLite(tb testing.TB) rawSQLite {
	dsn := "file:" + filepath.Join(tb.TempDir(), "raw.db") +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close(); r.Close() })
	for _, ddl := range rawTables {
		if _, err := w.Exec(strings.Replace(ddl, "BYTEA", "BLOB", 1)); err != nil {
			tb.Fatal(err)
		}
	}
	return rawSQLite{w, r}
}

func (r rawSQLite) insert(ctx context.Context, id string, body []byte) error {
	_, err := r.write.ExecContext(ctx, `INSERT INTO raw_resources VALUES ('default','Communication',?,1,0,?)`, id, body)
	return err
}

func (r rawSQLite) read(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := r.read_.QueryRowContext(ctx, `SELECT body FROM raw_resources WHERE tenant_id='default' AND type='Communication' AND id=?`, id).Scan(&b)
	return b, err
}

// client is an HTTP client with enough idle connections for the benchmark's goroutines.
var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// create posts one Communication and returns its id.
func (t *target) create() (string, error) {
	req, _ := http.NewRequest("POST", t.srv.FHIR()+"/Communication", strings.NewReader(communication))
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Prefer", "return=minimal")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create: status %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	rest := strings.TrimPrefix(loc, t.srv.FHIR()+"/Communication/")
	id, _, _ := strings.Cut(rest, "/")
	return id, nil
}

// read gets one Communication by id.
func (t *target) read(id string) error {
	req, _ := http.NewRequest("GET", t.srv.FHIR()+"/Communication/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+t.token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("read: status %d", resp.StatusCode)
	}
	return nil
}

var rawSeq atomic.Int64

// rawID returns a fresh id for raw inserts.
func rawID() string { return fmt.Sprintf("raw-%d", rawSeq.Add(1)) }
