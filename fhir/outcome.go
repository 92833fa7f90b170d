package fhir

import (
	"encoding/json"
	"errors"
)

// Issue is one OperationOutcome.issue entry.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
}

// Outcome is an R4 OperationOutcome.
type Outcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// NewOutcome returns an OperationOutcome with the given issues.
func NewOutcome(issues ...Issue) *Outcome {
	return &Outcome{ResourceType: "OperationOutcome", Issue: issues}
}

// JSON encodes the outcome. It cannot fail for this fixed shape.
func (o *Outcome) JSON() []byte {
	b, _ := json.Marshal(o)
	return b
}

// IssueCode returns the OperationOutcome issue type for an error kind.
func IssueCode(k Kind) string {
	switch k {
	case KindInvalid, KindUnprocessable:
		return "invalid"
	case KindNotFound, KindGone:
		return "not-found"
	case KindConflict, KindPreconditionFailed:
		return "conflict"
	case KindForbidden:
		return "forbidden"
	case KindUnauthorized:
		return "login"
	case KindNotSupported, KindMethodNotAllowed, KindUnsupportedMedia, KindNotAcceptable:
		return "not-supported"
	case KindTooLarge:
		return "too-costly"
	case KindUnavailable:
		return "transient"
	default:
		return "exception"
	}
}

// OutcomeFor turns any error into an OperationOutcome. Errors that are not an
// *Error, and internal ones, get a generic message so no detail leaks.
func OutcomeFor(err error) *Outcome {
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind == KindInternal {
		return NewOutcome(Issue{Severity: "error", Code: "exception", Diagnostics: "internal server error"})
	}
	if len(fe.Issues) > 0 {
		return NewOutcome(fe.Issues...)
	}
	issue := Issue{Severity: "error", Code: IssueCode(fe.Kind), Diagnostics: fe.Message}
	if issue.Diagnostics == "" {
		issue.Diagnostics = fe.Kind.String()
	}
	if fe.Expression != "" {
		issue.Expression = []string{fe.Expression}
	}
	return NewOutcome(issue)
}
