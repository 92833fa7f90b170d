package auth

import (
	"context"
	"encoding/base32"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// TOTP follows RFC 6238 as authenticator apps implement it: SHA-1, six
// digits, 30-second steps; one step of skew either way is accepted.
var totpOpts = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var errBadCode = &fhir.Error{Kind: fhir.KindUnauthorized, Op: "auth.TOTP", Message: "invalid code"}

// BeginTOTP gives a user a new TOTP secret, not yet in force, and returns it
// with the otpauth:// URL an authenticator app reads (as a QR code or
// typed in). ConfirmTOTP puts it in force.
func (s *Server) BeginTOTP(ctx context.Context, sess Session) (secret, url string, err error) {
	u, err := s.users.GetUser(ctx, sess.Tenant, sess.UserID)
	if err != nil {
		return "", "", err
	}
	if u.TOTPEnabled {
		return "", "", fhir.Errorf(fhir.KindConflict, "a second factor is already enrolled")
	}
	opts := totp.GenerateOpts{Issuer: "Hearth", AccountName: u.Username + "@" + u.Tenant}
	if u.TOTPSecret != "" {
		// Showing the page again shows the same pending key, so a reload
		// does not invalidate what the user already scanned.
		opts.Secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.TOTPSecret)
		if err != nil {
			return "", "", err
		}
	}
	key, err := totp.Generate(opts)
	if err != nil {
		return "", "", err
	}
	if u.TOTPSecret != key.Secret() {
		u.TOTPSecret = key.Secret()
		if err := s.users.UpdateUser(ctx, u); err != nil {
			return "", "", err
		}
	}
	return key.Secret(), key.URL(), nil
}

// ConfirmTOTP checks a code against the pending secret, puts it in force
// and marks the session as having passed its second factor.
func (s *Server) ConfirmTOTP(ctx context.Context, sess Session, code string) error {
	u, err := s.users.GetUser(ctx, sess.Tenant, sess.UserID)
	if err != nil {
		return err
	}
	if u.TOTPEnabled || u.TOTPSecret == "" {
		return fhir.Errorf(fhir.KindConflict, "no enrolment is pending")
	}
	if err := s.checkCode(ctx, u, code); err != nil {
		return err
	}
	u.TOTPEnabled = true
	if err := s.users.UpdateUser(ctx, u); err != nil {
		return err
	}
	return s.markMFADone(ctx, sess)
}

// VerifyTOTP checks a login's second factor and marks the session. Wrong
// codes count as failed logins, so the lockout also stops code guessing.
func (s *Server) VerifyTOTP(ctx context.Context, sess Session, code string) error {
	u := sess.User
	if !u.TOTPEnabled {
		return fhir.Errorf(fhir.KindConflict, "no second factor is enrolled")
	}
	if u.LockedUntil.After(s.clock()) {
		return loginError(u, ErrLocked)
	}
	if err := s.checkCode(ctx, u, code); err != nil {
		p := s.cfg.Login
		if _, ferr := s.users.LoginFailed(ctx, u.Tenant, u.ID, p.MaxFailures, s.clock().Add(p.LockoutDuration)); ferr != nil {
			return ferr
		}
		return err
	}
	if err := s.users.LoginSucceeded(ctx, u.Tenant, u.ID); err != nil {
		return err
	}
	return s.markMFADone(ctx, sess)
}

// checkCode validates a code and refuses one already used within its
// validity window, so a code seen over a shoulder cannot be replayed.
func (s *Server) checkCode(ctx context.Context, u store.User, code string) error {
	now := s.clock()
	ok, err := totp.ValidateCustom(code, u.TOTPSecret, now, totpOpts)
	if err != nil || !ok {
		return errBadCode
	}
	err = s.users.PutAuthItem(ctx, store.AuthItem{Tenant: u.Tenant, Kind: itemTOTPUsed, ID: u.Tenant + "/" + u.ID + "/" + code,
		Data: []byte("1"), ExpiresAt: now.Add(3 * 30 * time.Second)}, now)
	if isConflict(err) {
		return errBadCode
	}
	return err
}

// TOTPCode computes the current code for a secret; for tests and tools.
func TOTPCode(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totpOpts)
}
