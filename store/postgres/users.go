package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

var _ store.Users = (*DB)(nil)

const userColumns = `tenant_id, user_id, username, password_hash, fhir_user, roles, totp_secret, totp_enabled,
	failed_logins, locked_until, revoked_before, disabled, created_at, organization, verified`

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var roles string
	var locked, revoked, created int64
	err := row.Scan(&u.Tenant, &u.ID, &u.Username, &u.PasswordHash, &u.FhirUser, &roles, &u.TOTPSecret,
		&u.TOTPEnabled, &u.FailedLogins, &locked, &revoked, &u.Disabled, &created, &u.Organization, &u.Verified)
	u.Roles = strings.Fields(roles)
	u.LockedUntil, u.RevokedBefore, u.CreatedAt = sqlbase.OptTime(locked), sqlbase.OptTime(revoked), sqlbase.Time(created)
	return u, err
}

// CreateUser adds a user; the username must be new in the tenant.
func (db *DB) CreateUser(ctx context.Context, u store.User) error {
	const op = "postgres.CreateUser"
	if u.Tenant == "" || u.ID == "" || u.Username == "" {
		return sqlbase.Internalf(op, "user without a tenant, id or username")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		u.Tenant, u.ID, u.Username, u.PasswordHash, u.FhirUser, strings.Join(u.Roles, " "), u.TOTPSecret,
		u.TOTPEnabled, u.FailedLogins, sqlbase.OptMicros(u.LockedUntil), sqlbase.OptMicros(u.RevokedBefore),
		u.Disabled, sqlbase.Micros(u.CreatedAt), u.Organization, u.Verified)
	return wrap(op, err, "username already taken")
}

// GetUser returns a user by id.
func (db *DB) GetUser(ctx context.Context, tenant, id string) (store.User, error) {
	return db.oneUser(ctx, "postgres.GetUser", `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND user_id = $2`, tenant, id)
}

// UserByName returns a user by username.
func (db *DB) UserByName(ctx context.Context, tenant, username string) (store.User, error) {
	return db.oneUser(ctx, "postgres.UserByName", `SELECT `+userColumns+` FROM users WHERE tenant_id = $1 AND username = $2`, tenant, username)
}

func (db *DB) oneUser(ctx context.Context, op, query string, args ...any) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, query, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, sqlbase.NotFound(op, "user")
	}
	return u, wrap(op, err, "")
}

// UpdateUser writes the user's mutable fields, not the failure counters.
func (db *DB) UpdateUser(ctx context.Context, u store.User) error {
	const op = "postgres.UpdateUser"
	res, err := db.pool.Exec(ctx, `UPDATE users SET username = $1, password_hash = $2, fhir_user = $3, roles = $4,
		totp_secret = $5, totp_enabled = $6, revoked_before = $7, disabled = $8, organization = $9, verified = $10
		WHERE tenant_id = $11 AND user_id = $12`,
		u.Username, u.PasswordHash, u.FhirUser, strings.Join(u.Roles, " "), u.TOTPSecret, u.TOTPEnabled,
		sqlbase.OptMicros(u.RevokedBefore), u.Disabled, u.Organization, u.Verified, u.Tenant, u.ID)
	return affected(op, res, err, "user")
}

// LoginFailed counts a failure and locks the user at maxFailures.
func (db *DB) LoginFailed(ctx context.Context, tenant, id string, maxFailures int, lockUntil time.Time) (store.User, error) {
	const op = "postgres.LoginFailed"
	u, err := scanUser(db.pool.QueryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1,
		locked_until = CASE WHEN $1 > 0 AND failed_logins + 1 >= $2 THEN $3 ELSE locked_until END
		WHERE tenant_id = $4 AND user_id = $5 RETURNING `+userColumns,
		maxFailures, maxFailures, sqlbase.Micros(lockUntil), tenant, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, sqlbase.NotFound(op, "user")
	}
	return u, wrap(op, err, "")
}

// LoginSucceeded clears the failure count and the lock.
func (db *DB) LoginSucceeded(ctx context.Context, tenant, id string) error {
	const op = "postgres.LoginSucceeded"
	res, err := db.pool.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0
		WHERE tenant_id = $1 AND user_id = $2`, tenant, id)
	return affected(op, res, err, "user")
}

// CreateSession stores a login session.
func (db *DB) CreateSession(ctx context.Context, s store.Session) error {
	const op = "postgres.CreateSession"
	_, err := db.pool.Exec(ctx, `INSERT INTO auth_sessions (tenant_id, session_id, user_id, mfa_done, created_at, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.Tenant, s.ID, s.UserID, s.MFADone, sqlbase.Micros(s.CreatedAt), sqlbase.Micros(s.LastSeen))
	return wrap(op, err, "session exists")
}

// GetSession finds a session by id.
func (db *DB) GetSession(ctx context.Context, id string) (store.Session, error) {
	const op = "postgres.GetSession"
	s := store.Session{ID: id}
	var created, seen int64
	err := db.pool.QueryRow(ctx, `SELECT tenant_id, user_id, mfa_done, created_at, last_seen
		FROM auth_sessions WHERE session_id = $1`, id).Scan(&s.Tenant, &s.UserID, &s.MFADone, &created, &seen)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, sqlbase.NotFound(op, "session")
	}
	s.CreatedAt, s.LastSeen = sqlbase.Time(created), sqlbase.Time(seen)
	return s, wrap(op, err, "")
}

// UpdateSession writes LastSeen and MFADone.
func (db *DB) UpdateSession(ctx context.Context, s store.Session) error {
	const op = "postgres.UpdateSession"
	res, err := db.pool.Exec(ctx, `UPDATE auth_sessions SET last_seen = $1, mfa_done = $2 WHERE session_id = $3`,
		sqlbase.Micros(s.LastSeen), s.MFADone, s.ID)
	return affected(op, res, err, "session")
}

// DeleteSession ends a session; a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE session_id = $1`, id)
	return wrap("postgres.DeleteSession", err, "")
}

// DeleteUserSessions ends every session of a user.
func (db *DB) DeleteUserSessions(ctx context.Context, tenant, userID string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE tenant_id = $1 AND user_id = $2`, tenant, userID)
	return wrap("postgres.DeleteUserSessions", err, "")
}

const refreshColumns = `tenant_id, token_hash, chain_id, user_id, client_id, data, created_at, expires_at, used_at, revoked`

func scanRefresh(row interface{ Scan(...any) error }) (store.RefreshToken, error) {
	var t store.RefreshToken
	var created, expires, used int64
	err := row.Scan(&t.Tenant, &t.Hash, &t.ChainID, &t.UserID, &t.ClientID, &t.Data, &created, &expires, &used, &t.Revoked)
	t.CreatedAt, t.ExpiresAt, t.UsedAt = sqlbase.Time(created), sqlbase.Time(expires), sqlbase.OptTime(used)
	return t, err
}

// CreateRefreshToken stores a refresh token.
func (db *DB) CreateRefreshToken(ctx context.Context, t store.RefreshToken) error {
	const op = "postgres.CreateRefreshToken"
	_, err := db.pool.Exec(ctx, `INSERT INTO refresh_tokens (`+refreshColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)`, t.Tenant, t.Hash, t.ChainID, t.UserID, t.ClientID, t.Data,
		sqlbase.Micros(t.CreatedAt), sqlbase.Micros(t.ExpiresAt), t.Revoked)
	return wrap(op, err, "refresh token exists")
}

// UseRefreshToken marks a token used; see store.Users.
func (db *DB) UseRefreshToken(ctx context.Context, hash string, now time.Time) (store.RefreshToken, bool, error) {
	const op = "postgres.UseRefreshToken"
	t, err := scanRefresh(db.pool.QueryRow(ctx, `UPDATE refresh_tokens SET used_at = $1
		WHERE token_hash = $2 AND used_at = 0 AND NOT revoked RETURNING `+refreshColumns, sqlbase.Micros(now), hash))
	if err == nil {
		return t, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.RefreshToken{}, false, wrap(op, err, "")
	}
	t, err = db.GetRefreshToken(ctx, hash)
	return t, false, err
}

// GetRefreshToken returns a token by hash.
func (db *DB) GetRefreshToken(ctx context.Context, hash string) (store.RefreshToken, error) {
	const op = "postgres.GetRefreshToken"
	t, err := scanRefresh(db.pool.QueryRow(ctx, `SELECT `+refreshColumns+` FROM refresh_tokens WHERE token_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.RefreshToken{}, sqlbase.NotFound(op, "refresh token")
	}
	return t, wrap(op, err, "")
}

// RevokeRefreshChain revokes every token of a grant.
func (db *DB) RevokeRefreshChain(ctx context.Context, tenant, chainID string) error {
	_, err := db.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked = true WHERE tenant_id = $1 AND chain_id = $2`, tenant, chainID)
	return wrap("postgres.RevokeRefreshChain", err, "")
}

// RevokeUserRefreshTokens revokes every token of a user.
func (db *DB) RevokeUserRefreshTokens(ctx context.Context, tenant, userID string) error {
	_, err := db.pool.Exec(ctx, `UPDATE refresh_tokens SET revoked = true WHERE tenant_id = $1 AND user_id = $2`, tenant, userID)
	return wrap("postgres.RevokeUserRefreshTokens", err, "")
}

// PutAuthItem stores an item unless an unexpired one has its kind and id.
func (db *DB) PutAuthItem(ctx context.Context, it store.AuthItem, now time.Time) error {
	const op = "postgres.PutAuthItem"
	// The upsert replaces only an expired row; when it refuses, RETURNING
	// yields nothing.
	var got string
	err := db.pool.QueryRow(ctx, `INSERT INTO auth_items (tenant_id, kind, item_id, data, expires_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (kind, item_id) DO UPDATE SET tenant_id = excluded.tenant_id, data = excluded.data,
			expires_at = excluded.expires_at WHERE auth_items.expires_at <= $6
		RETURNING item_id`,
		it.Tenant, it.Kind, it.ID, it.Data, sqlbase.Micros(it.ExpiresAt), sqlbase.Micros(now)).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return sqlbase.Conflict(op, "already used", nil)
	}
	return wrap(op, err, "")
}

// GetAuthItem returns an unexpired item.
func (db *DB) GetAuthItem(ctx context.Context, kind, id string, now time.Time) (store.AuthItem, error) {
	const op = "postgres.GetAuthItem"
	it := store.AuthItem{Kind: kind, ID: id}
	var exp int64
	err := db.pool.QueryRow(ctx, `SELECT tenant_id, data, expires_at FROM auth_items
		WHERE kind = $1 AND item_id = $2 AND expires_at > $3`, kind, id, sqlbase.Micros(now)).Scan(&it.Tenant, &it.Data, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AuthItem{}, sqlbase.NotFound(op, kind)
	}
	it.ExpiresAt = sqlbase.Time(exp)
	return it, wrap(op, err, "")
}

// DeleteAuthItem removes an item; a missing one is not an error.
func (db *DB) DeleteAuthItem(ctx context.Context, kind, id string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM auth_items WHERE kind = $1 AND item_id = $2`, kind, id)
	return wrap("postgres.DeleteAuthItem", err, "")
}

// AuthItems lists the unexpired items of a kind.
func (db *DB) AuthItems(ctx context.Context, kind string, now time.Time) ([]store.AuthItem, error) {
	const op = "postgres.AuthItems"
	rows, err := db.pool.Query(ctx, `SELECT tenant_id, item_id, data, expires_at FROM auth_items
		WHERE kind = $1 AND expires_at > $2`, kind, sqlbase.Micros(now))
	if err != nil {
		return nil, wrap(op, err, "")
	}
	defer rows.Close()
	var out []store.AuthItem
	for rows.Next() {
		it := store.AuthItem{Kind: kind}
		var exp int64
		if err := rows.Scan(&it.Tenant, &it.ID, &it.Data, &exp); err != nil {
			return nil, wrap(op, err, "")
		}
		it.ExpiresAt = sqlbase.Time(exp)
		out = append(out, it)
	}
	return out, wrap(op, rows.Err(), "")
}

// affected turns "no row updated" into KindNotFound.
func affected(op string, res pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return wrap(op, err, "")
	}
	if res.RowsAffected() == 0 {
		return sqlbase.NotFound(op, what)
	}
	return nil
}
