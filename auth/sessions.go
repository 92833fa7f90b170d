package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// LoginPolicy governs logins and browser sessions.
type LoginPolicy struct {
	// MaxFailures failed logins in a row lock an account for
	// LockoutDuration; defaults 5 and 15 minutes.
	MaxFailures     int
	LockoutDuration time.Duration
	// IdleTimeout ends a session not used for that long (default 2 hours);
	// SessionLifetime ends any session that old (default 12 hours).
	IdleTimeout     time.Duration
	SessionLifetime time.Duration
	// MFATenants and MFARoles name the tenants, and the roles in any
	// tenant, whose users must pass a TOTP check at login ("*" for every
	// tenant). A user who has enrolled is always asked.
	MFATenants []string
	MFARoles   []string
}

func (p *LoginPolicy) setDefaults() {
	if p.MaxFailures <= 0 {
		p.MaxFailures = 5
	}
	if p.LockoutDuration <= 0 {
		p.LockoutDuration = 15 * time.Minute
	}
	if p.IdleTimeout <= 0 {
		p.IdleTimeout = 2 * time.Hour
	}
	if p.SessionLifetime <= 0 {
		p.SessionLifetime = 12 * time.Hour
	}
}

// touchEvery bounds how often a session's LastSeen is written: once a
// minute is precise enough for a two-hour idle timeout.
const touchEvery = time.Minute

// Session is a live browser session and its user.
type Session struct {
	store.Session
	User store.User
}

// NeedsMFA reports whether the session still has to pass a TOTP check.
func (s Session) NeedsMFA(p LoginPolicy) bool {
	return !s.MFADone && mfaRequired(p, s.User)
}

func mfaRequired(p LoginPolicy, u store.User) bool {
	if u.TOTPEnabled || slices.Contains(p.MFATenants, "*") || slices.Contains(p.MFATenants, u.Tenant) {
		return true
	}
	for _, r := range u.Roles {
		if slices.Contains(p.MFARoles, r) {
			return true
		}
	}
	return false
}

// sessionID is what the store keeps of a cookie value: its SHA-256.
func sessionID(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

var errNoSession = &fhir.Error{Kind: fhir.KindUnauthorized, Op: "auth.Session", Message: "not signed in"}

// StartSession opens a session for a user who has just authenticated and
// returns the cookie value (256 random bits; only its hash is stored).
func (s *Server) StartSession(ctx context.Context, u store.User) (cookie string, err error) {
	cookie = randomString(32)
	now := s.clock().UTC()
	err = s.users.CreateSession(ctx, store.Session{Tenant: u.Tenant, ID: sessionID(cookie), UserID: u.ID, CreatedAt: now, LastSeen: now})
	return cookie, err
}

// Session returns the live session a cookie stands for. A session is over
// once idle for IdleTimeout, older than SessionLifetime, started before its
// user's RevokedBefore (a password change, "sign out everywhere"), or when
// the user is disabled; an ended session is deleted.
func (s *Server) Session(ctx context.Context, cookie string) (Session, error) {
	if cookie == "" {
		return Session{}, errNoSession
	}
	sess, err := s.liveSession(ctx, sessionID(cookie))
	if err != nil {
		return Session{}, err
	}
	ss, u := sess.Session, sess.User
	if now := s.clock().UTC(); now.Sub(ss.LastSeen) >= touchEvery {
		ss.LastSeen = now
		if err := s.users.UpdateSession(ctx, ss); err != nil {
			return Session{}, err
		}
	}
	return Session{Session: ss, User: u}, nil
}

// liveSession returns the session with store id id if it is still live
// (see Session), without counting this as activity; an ended session is
// deleted and errNoSession.
func (s *Server) liveSession(ctx context.Context, id string) (Session, error) {
	ss, err := s.users.GetSession(ctx, id)
	if fhir.IsKind(err, fhir.KindNotFound) {
		return Session{}, errNoSession
	}
	if err != nil {
		return Session{}, err
	}
	now := s.clock().UTC()
	p := s.cfg.Login
	u, err := s.users.GetUser(ctx, ss.Tenant, ss.UserID)
	if err != nil && !fhir.IsKind(err, fhir.KindNotFound) {
		return Session{}, err
	}
	if err != nil || u.Disabled || ss.CreatedAt.Before(u.RevokedBefore) ||
		now.Sub(ss.LastSeen) > p.IdleTimeout || now.Sub(ss.CreatedAt) > p.SessionLifetime {
		if err := s.users.DeleteSession(ctx, id); err != nil {
			return Session{}, err
		}
		return Session{}, errNoSession
	}
	return Session{Session: ss, User: u}, nil
}

// EndSession signs a browser out; an unknown cookie is not an error.
func (s *Server) EndSession(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	return s.users.DeleteSession(ctx, sessionID(cookie))
}

// LoginPolicy is the policy in force.
func (s *Server) LoginPolicy() LoginPolicy { return s.cfg.Login }

// markMFADone records that a session passed its second factor.
func (s *Server) markMFADone(ctx context.Context, sess Session) error {
	sess.MFADone = true
	sess.LastSeen = s.clock().UTC()
	return s.users.UpdateSession(ctx, sess.Session)
}

// StartExternalSession opens a session for a user a trusted identity
// provider authenticated. The provider's login stands in for Hearth's MFA:
// the session is marked as having passed it.
func (s *Server) StartExternalSession(ctx context.Context, u store.User) (string, error) {
	cookie := randomString(32)
	now := s.clock().UTC()
	err := s.users.CreateSession(ctx, store.Session{Tenant: u.Tenant, ID: sessionID(cookie), UserID: u.ID, MFADone: true, CreatedAt: now, LastSeen: now})
	return cookie, err
}

// IsRedirectURI reports whether uri is registered for the client.
func (s *Server) IsRedirectURI(ctx context.Context, clientID, uri string) bool {
	c, err := s.accounts.LookupClient(ctx, clientID)
	return err == nil && slices.Contains(c.RedirectURIs, uri)
}

// Accounts is the store the server keeps clients in.
func (s *Server) Accounts() store.Accounts { return s.accounts }
