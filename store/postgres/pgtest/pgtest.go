// Package pgtest gives each test its own PostgreSQL schema on the test
// server, so test packages and tests run in parallel on one database.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points tests at a server;
// scripts/test-postgres.sh sets it.
const EnvURL = "HEARTH_TEST_DATABASE_URL"

// DefaultURL is the local test server used when EnvURL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL creates a fresh, empty schema t_<random hex>, drops it with everything
// in it when t ends, and returns a connection URL whose search_path is that
// schema. A server that cannot be reached fails the test: database tests are
// never skipped.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		base = DefaultURL
	}
	schema := "t_" + randomHex(t)
	exec(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	return withSearchPath(base, schema)
}

// exec runs one statement on a connection of its own.
func exec(t testing.TB, base, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: cannot reach PostgreSQL at %s: %v\n"+
			"Run `source scripts/test-postgres.sh` first, or set %s to a server tests may create schemas on.",
			redact(base), err, EnvURL)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// withSearchPath adds search_path as a runtime parameter, which pgx sends
// to the server when it connects, to a URL or a key=value DSN.
func withSearchPath(base, schema string) string { return WithParam(base, "search_path", schema) }

// WithParam adds a runtime parameter (a setting pgx sends to the server
// when it connects) to a URL or a key=value DSN.
func WithParam(base, name, value string) string {
	if u, err := url.Parse(base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(base) + " " + name + "=" + value
}

var dsnPassword = regexp.MustCompile(`password=\S+`)

// redact hides the password of a URL or DSN in messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return dsnPassword.ReplaceAllString(s, "password=xxxxx")
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
