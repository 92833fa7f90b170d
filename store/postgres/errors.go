package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// wrap classifies a driver error. conflict is the client-safe message used
// when a unique key is violated; SQL text only ever goes into Cause.
func wrap(op string, err error, conflict string) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return sqlbase.Conflict(op, conflict, err)
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return sqlbase.Conflict(op, "concurrent change, try again", err)
		case "53300", "57P01", "57P02", "57P03": // too many connections, shutting down, starting up
			return sqlbase.Unavailable(op, err)
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return sqlbase.Unavailable(op, err)
	}
	return sqlbase.Wrap(op, err)
}
