package postgres

import (
	"context"
	"fmt"
)

// UndurableSettings names the server settings, as this store's connections
// see them, under which a commit PostgreSQL acknowledged can be lost or
// the database corrupted by a crash: synchronous_commit=off (the last
// commits before a crash vanish, AuditEvents among them), fsync=off and
// full_page_writes=off. Hearth answers a write or a read only after its
// AuditEvent commits; that promise is only as durable as the commit.
// Nothing is returned when every setting is durable.
func (db *DB) UndurableSettings(ctx context.Context) ([]string, error) {
	const op = "postgres.UndurableSettings"
	var syncCommit, fsync, fullPages string
	err := db.pool.QueryRow(ctx, `SELECT current_setting('synchronous_commit'), current_setting('fsync'),
		current_setting('full_page_writes')`).Scan(&syncCommit, &fsync, &fullPages)
	if err != nil {
		return nil, wrap(op, err, "")
	}
	var out []string
	for _, s := range []struct{ name, value, unsafe string }{
		{"synchronous_commit", syncCommit, "off"},
		{"fsync", fsync, "off"},
		{"full_page_writes", fullPages, "off"},
	} {
		if s.value == s.unsafe {
			out = append(out, fmt.Sprintf("%s=%s", s.name, s.value))
		}
	}
	return out, nil
}
