package auth

import (
	"context"
	"net"
	"net/http"
)

// Kinds of AuthEvent; they are the audit package's auth event codes.
const (
	EventLogin          = "login"
	EventLoginFailed    = "login-failed"
	EventLogout         = "logout"
	EventTokenIssued    = "token-issue"
	EventTokenRefreshed = "token-refresh"
	EventPasswordChange = "password-change"
	EventLockout        = "lockout"
	EventMFASuccess     = "mfa-success"
	EventMFAFailure     = "mfa-failure"
)

// AuthEvent is a login, logout, token or account event for the audit log.
type AuthEvent struct {
	Kind     string
	Tenant   string
	Subject  string // the user (or client) id
	FhirUser string
	ClientID string // the application, if any
	IsUser   bool
	Address  string // the client's network address
	Patient  string // the launch patient of an issued token, if any
	Failed   bool
	Reason   string // why it failed, in words safe to show
}

// Auditor records auth events as AuditEvents; app wires it to the audit
// log. Without one nothing is recorded.
type Auditor interface {
	AuthEvent(ctx context.Context, ev AuthEvent) error
}

// RecordAuth records an auth event. The error matters for successful
// logins, which must not happen unrecorded; callers of failure events may
// only log it.
func (s *Server) RecordAuth(ctx context.Context, ev AuthEvent) error {
	if s.cfg.Auditor == nil || ev.Tenant == "" {
		return nil
	}
	if err := s.cfg.Auditor.AuthEvent(ctx, ev); err != nil {
		s.logger.ErrorContext(ctx, "auth: audit event not recorded", "kind", ev.Kind, "err", err)
		return err
	}
	return nil
}

// RemoteAddress is the request's client address (the TCP peer).
func RemoteAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
