package sqlbase

import (
	"context"
	"errors"
	"fmt"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// NotFound reports a missing resource, version, tenant or client. what is
// client-safe text such as "Patient/123".
func NotFound(op, what string) error {
	return &fhir.Error{Kind: fhir.KindNotFound, Op: op, Message: what + " not found"}
}

// Conflict reports a lost optimistic race or a duplicate key.
func Conflict(op, msg string, cause error) error {
	return &fhir.Error{Kind: fhir.KindConflict, Op: op, Message: msg, Cause: cause}
}

// PutConflict says why a write lost its race, in words a client may see.
func PutConflict(w store.Write) string {
	r := w.Record
	if w.PrevVersion == 0 {
		return r.Type + "/" + r.ID + " already exists"
	}
	return fmt.Sprintf("%s/%s is not at version %d", r.Type, r.ID, w.PrevVersion)
}

// Internalf reports a caller bug; the text goes to the log, not to clients.
func Internalf(op, format string, args ...any) error {
	return &fhir.Error{Kind: fhir.KindInternal, Op: op, Message: "storage failure", Cause: fmt.Errorf(format, args...)}
}

// Wrap classifies an error from a driver. Errors that are already
// *fhir.Error pass through; a cancelled or timed-out context is
// KindUnavailable; anything else is KindInternal with the driver error as
// Cause only, so no SQL reaches a client.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fhir.Error
	if errors.As(err, &fe) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &fhir.Error{Kind: fhir.KindUnavailable, Op: op, Message: "request cancelled or timed out", Cause: err}
	}
	return &fhir.Error{Kind: fhir.KindInternal, Op: op, Message: "storage failure", Cause: err}
}

// Unavailable reports a database that cannot be reached or is too busy.
func Unavailable(op string, err error) error {
	return &fhir.Error{Kind: fhir.KindUnavailable, Op: op, Message: "database unavailable", Cause: err}
}
