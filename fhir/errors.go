// Package fhir holds Hearth's R4 domain model: resource validation through
// github.com/google/fhir/go, OperationOutcome construction, and the one error
// type every layer uses. It knows nothing about HTTP or SQL.
package fhir

import (
	"errors"
	"fmt"
)

// Kind classifies an error. The list is append-only: server/ maps each Kind
// to an HTTP status and an OperationOutcome issue code in one table.
type Kind int

// Error kinds.
const (
	KindInternal           Kind = iota // unexpected failure; details go to the log only
	KindInvalid                        // bad input (400)
	KindNotFound                       // no such resource or route (404)
	KindGone                           // resource deleted (410)
	KindConflict                       // concurrent change or duplicate (409)
	KindForbidden                      // authenticated but not allowed (403)
	KindUnauthorized                   // no or bad credentials (401)
	KindNotSupported                   // interaction or feature not supported (400/501)
	KindTooLarge                       // body or bundle over a limit (413)
	KindUnavailable                    // dependency down (503)
	KindPreconditionFailed             // If-Match / conditional mismatch (412)
	KindUnprocessable                  // valid JSON that breaks a business rule (422)
	KindMethodNotAllowed               // HTTP method not allowed on this path (405)
	KindUnsupportedMedia               // Content-Type we cannot read (415)
	KindNotAcceptable                  // Accept or _format we cannot produce (406)
)

var kindNames = [...]string{
	"internal", "invalid", "not-found", "gone", "conflict", "forbidden",
	"unauthorized", "not-supported", "too-large", "unavailable",
	"precondition-failed", "unprocessable", "method-not-allowed",
	"unsupported-media", "not-acceptable",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the project's error type. Message is safe to show to clients (no
// PHI beyond what the client itself sent); Cause is for the log.
type Error struct {
	Kind       Kind
	Op         string  // the operation that failed, e.g. "engine.Update"
	Message    string  // client-facing text
	Expression string  // FHIRPath of the offending element, when known
	Issues     []Issue // several issues, e.g. every validation failure; optional
	Cause      error
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Op != "" {
		msg = e.Op + ": " + msg
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an *Error of the given kind with a client-facing message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// At returns a copy of e that names the offending element.
func (e *Error) At(expression string) *Error {
	c := *e
	c.Expression = expression
	return &c
}

// KindOf reports the Kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return KindInternal
}

// IsKind reports whether err carries the given Kind.
func IsKind(err error, k Kind) bool {
	return err != nil && KindOf(err) == k
}
