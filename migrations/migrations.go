// Package migrations holds Hearth's SQL schema, one folder per database
// dialect, embedded in the binary so that a server migrates itself.
//
// Files are named NNNN_description.sql and run in ascending NNNN order; a
// migration is never edited once released, only followed by a new one.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// FS holds the migration files under postgres/ and sqlite/.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

// Dialects a migration set exists for.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Migration is one schema step.
type Migration struct {
	Version int    // the NNNN prefix of the file name
	Name    string // the file name, e.g. 0001_init.sql
	SQL     string
}

// List returns the migrations of a dialect in the order they must run.
func List(dialect string) ([]Migration, error) {
	entries, err := fs.ReadDir(FS, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: unknown dialect %q: %w", dialect, err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		prefix, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migrations: %s/%s: name must start with a positive NNNN_ version", dialect, name)
		}
		body, err := fs.ReadFile(FS, path.Join(dialect, name))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	// Two files with one version would make the applied set ambiguous.
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations: %s: version %d used twice", dialect, out[i].Version)
		}
	}
	return out, nil
}
