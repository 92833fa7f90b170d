package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// NewUser is what an administrator gives to create a user.
type NewUser struct {
	Tenant   string
	Username string
	Password string // may be empty for users who only sign in through a trusted IdP
	FhirUser string // Practitioner/…, Patient/… or RelatedPerson/…
	Roles    []string
	// Organization (Organization/id) and Verified describe the user to the
	// access policy (docs/access-policy.md).
	Organization string
	Verified     bool
}

// fhirUserTypes are the resource types a user may be (SMART's fhirUser).
var fhirUserTypes = []string{"Practitioner", "Patient", "RelatedPerson", "Person", "PractitionerRole"}

// CreateUser validates and stores a new user with an argon2id password
// hash. The tenant must exist. The user's id is random; the username is
// what they log in with and must be new in the tenant.
func CreateUser(ctx context.Context, accounts store.Accounts, users store.Users, nu NewUser) (store.User, error) {
	const op = "auth.CreateUser"
	nu.Username = strings.TrimSpace(nu.Username)
	if nu.Username == "" || len(nu.Username) > 128 || strings.ContainsAny(nu.Username, " \t\r\n/") {
		return store.User{}, &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "a username needs 1 to 128 characters without spaces or slashes"}
	}
	if err := checkFhirUser(nu.FhirUser); err != nil {
		return store.User{}, err
	}
	if o, id, ok := strings.Cut(nu.Organization, "/"); nu.Organization != "" && (!ok || o != "Organization" || id == "") {
		return store.User{}, fhir.Errorf(fhir.KindInvalid, "organization must be Organization/id")
	}
	var hash string
	if nu.Password != "" {
		if err := checkPasswordPolicy(nu.Password); err != nil {
			return store.User{}, err
		}
		hash = hashPassword(nu.Password)
	}
	if _, err := accounts.GetTenant(ctx, nu.Tenant); err != nil {
		return store.User{}, fmt.Errorf("%s: tenant %q: %w", op, nu.Tenant, err)
	}
	u := store.User{
		Tenant: nu.Tenant, ID: "u_" + randomString(12), Username: nu.Username, PasswordHash: hash,
		FhirUser: nu.FhirUser, Roles: cleanRoles(nu.Roles), Organization: nu.Organization, Verified: nu.Verified,
		CreatedAt: time.Now().UTC(),
	}
	if err := users.CreateUser(ctx, u); err != nil {
		return store.User{}, fmt.Errorf("%s: %w", op, err)
	}
	return u, nil
}

// checkFhirUser accepts "" or a relative reference to a person-like resource.
func checkFhirUser(ref string) error {
	if ref == "" {
		return nil
	}
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || !slices.Contains(fhirUserTypes, typ) || id == "" || strings.Contains(id, "/") {
		return fhir.Errorf(fhir.KindInvalid, "fhirUser must be Practitioner/id, Patient/id, RelatedPerson/id, Person/id or PractitionerRole/id")
	}
	return nil
}

func cleanRoles(roles []string) []string {
	var out []string
	for _, r := range roles {
		for _, f := range strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ' ' }) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// errLogin is every login failure as the user sees it: unknown user, wrong
// password, locked and disabled accounts are not told apart, so the form
// gives a guesser nothing to learn.
var errLogin = &fhir.Error{Kind: fhir.KindUnauthorized, Op: "auth.Login", Message: "invalid username or password"}

// ErrLocked is wrapped (as Cause) in the login error of a locked account,
// for the log and for tests; the user sees errLogin's message only.
var ErrLocked = errors.New("account locked")

// Login checks a username and password. Failures are counted; after
// LoginPolicy.MaxFailures in a row the account is locked for
// LoginPolicy.LockoutDuration, during which even the right password fails.
func (s *Server) Login(ctx context.Context, tenant, username, password string) (store.User, error) {
	now := s.clock()
	u, err := s.users.UserByName(ctx, tenant, username)
	if fhir.IsKind(err, fhir.KindNotFound) {
		checkPassword(dummyHash(), password)
		return store.User{}, errLogin
	}
	if err != nil {
		return store.User{}, err
	}
	if u.LockedUntil.After(now) {
		checkPassword(dummyHash(), password)
		return store.User{}, loginError(u, ErrLocked)
	}
	if u.Disabled || u.PasswordHash == "" || !checkPassword(u.PasswordHash, password) {
		p := s.cfg.Login
		u2, err := s.users.LoginFailed(ctx, u.Tenant, u.ID, p.MaxFailures, now.Add(p.LockoutDuration))
		if err != nil {
			return store.User{}, err
		}
		if !u2.LockedUntil.IsZero() && u2.LockedUntil.After(now) {
			s.logger.WarnContext(ctx, "account locked after failed logins", "tenant", u.Tenant, "user", u.ID)
			return store.User{}, loginError(u, ErrLocked)
		}
		return store.User{}, loginError(u, nil)
	}
	if u.FailedLogins > 0 || !u.LockedUntil.IsZero() {
		if err := s.users.LoginSucceeded(ctx, u.Tenant, u.ID); err != nil {
			return store.User{}, err
		}
	}
	return u, nil
}

// loginError is errLogin for a login that named an existing user: the
// user is kept for the audit trail (FailedLoginUser), never shown.
func loginError(u store.User, cause error) error {
	e := *errLogin
	e.Cause = &failedLogin{id: u.ID, fhirUser: u.FhirUser, cause: cause}
	return &e
}

// failedLogin is the cause of a login error that named an existing user.
type failedLogin struct {
	id, fhirUser string
	cause        error
}

func (f *failedLogin) Error() string {
	if f.cause != nil {
		return "login of user " + f.id + ": " + f.cause.Error()
	}
	return "login of user " + f.id + ": wrong password or disabled account"
}

func (f *failedLogin) Unwrap() error { return f.cause }

// FailedLoginUser returns the id and fhirUser of the existing user a
// failed login named (wrong password, disabled or locked account), for its
// AuditEvent; ok is false when the username was unknown.
func FailedLoginUser(err error) (id, fhirUser string, ok bool) {
	var f *failedLogin
	if !errors.As(err, &f) {
		return "", "", false
	}
	return f.id, f.fhirUser, true
}

// SetPassword changes a user's password and revokes every session and
// refresh token of the user, and the access tokens issued before now.
func (s *Server) SetPassword(ctx context.Context, tenant, userID, password string) error {
	now := s.clock().UTC().Truncate(time.Microsecond)
	if err := SetPassword(ctx, s.users, tenant, userID, password, now, s.cfg.TokenTTL); err != nil {
		return err
	}
	s.RecordAuth(ctx, AuthEvent{Kind: EventPasswordChange, Tenant: tenant, Subject: userID, IsUser: true})
	return s.revocations.revokeUser(ctx, tenant, userID, now)
}

// SignOutEverywhere revokes every session and refresh token of a user, and
// the access tokens issued before now.
func (s *Server) SignOutEverywhere(ctx context.Context, tenant, userID string) error {
	now := s.clock().UTC().Truncate(time.Microsecond)
	if err := SignOutEverywhere(ctx, s.users, tenant, userID, now, s.cfg.TokenTTL); err != nil {
		return err
	}
	s.RecordAuth(ctx, AuthEvent{Kind: EventLogout, Tenant: tenant, Subject: userID, IsUser: true, Reason: "signed out everywhere"})
	return s.revocations.revokeUser(ctx, tenant, userID, now)
}

// SetPassword is Server.SetPassword for tools without a running server
// (hearth user passwd): running servers pick the revocation up from the
// store within seconds. tokenTTL is the longest access-token lifetime in
// use.
func SetPassword(ctx context.Context, users store.Users, tenant, userID, password string, now time.Time, tokenTTL time.Duration) error {
	if err := checkPasswordPolicy(password); err != nil {
		return err
	}
	u, err := users.GetUser(ctx, tenant, userID)
	if err != nil {
		return err
	}
	u.PasswordHash = hashPassword(password)
	return revokeUser(ctx, users, u, now, tokenTTL)
}

// SignOutEverywhere is Server.SignOutEverywhere for tools.
func SignOutEverywhere(ctx context.Context, users store.Users, tenant, userID string, now time.Time, tokenTTL time.Duration) error {
	u, err := users.GetUser(ctx, tenant, userID)
	if err != nil {
		return err
	}
	return revokeUser(ctx, users, u, now, tokenTTL)
}

// revokeUser writes u with RevokedBefore = now and the revocation mark the
// servers' token check reads, then removes its sessions and refresh
// tokens. RevokedBefore alone already voids them all (it is checked on
// every use), so a crash between the steps leaves nothing usable behind.
func revokeUser(ctx context.Context, users store.Users, u store.User, now time.Time, tokenTTL time.Duration) error {
	u.RevokedBefore = now
	if err := users.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := storeUserRevocation(ctx, users, u.Tenant, u.ID, now, tokenTTL); err != nil {
		return err
	}
	if err := users.DeleteUserSessions(ctx, u.Tenant, u.ID); err != nil {
		return err
	}
	return users.RevokeUserRefreshTokens(ctx, u.Tenant, u.ID)
}

// User returns a user by id.
func (s *Server) User(ctx context.Context, tenant, id string) (store.User, error) {
	return s.users.GetUser(ctx, tenant, id)
}

// CreateUser is the package function CreateUser on this server's store.
func (s *Server) CreateUser(ctx context.Context, nu NewUser) (store.User, error) {
	return CreateUser(ctx, s.accounts, s.users, nu)
}
