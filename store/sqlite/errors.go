package sqlite

import (
	"errors"

	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// wrap classifies a driver error: a unique violation is KindConflict, a
// database locked beyond the busy timeout is KindUnavailable, the rest is
// sqlbase.Wrap's business.
func wrap(op string, err error, conflict string) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return sqlbase.Conflict(op, conflict, err)
		}
		switch se.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return sqlbase.Unavailable(op, err)
		}
	}
	return sqlbase.Wrap(op, err)
}

// errCheckpointBusy: a reader kept the log from being truncated.
var errCheckpointBusy = errors.New("wal checkpoint incomplete: readers busy")
