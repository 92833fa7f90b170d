package main

import (
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// TestServeWarnsUndurableCommits: serve says at start when PostgreSQL may
// lose acknowledged commits (here synchronous_commit=off for its
// connections), and says nothing of the kind on the default settings.
func TestServeWarnsUndurableCommits(t *testing.T) {
	url := pgtest.URL(t)
	off := startServerArgs(t, []string{"--database-url", pgtest.WithParam(url, "synchronous_commit", "off")})
	line := waitLog(t, off, undurableWarning)
	if !strings.Contains(line, "synchronous_commit=off") {
		t.Errorf("the warning does not name the setting: %s", line)
	}
	durable := startServerArgs(t, []string{"--database-url", url})
	waitLog(t, durable, "hearth listening")
	if strings.Contains(durable.logString(), "synchronous_commit=off") {
		t.Errorf("durable settings reported as undurable:\n%s", durable.logString())
	}
}
