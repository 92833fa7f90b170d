-- Users, login sessions, refresh tokens and short-lived authorization state
-- (SMART on FHIR). Same tables and meaning as the PostgreSQL migration.

-- How a client authenticates at the token endpoint: client_secret_basic
-- (confidential, the default of 0001), none (public, PKCE required) or
-- private_key_jwt (keys inline in jwks or fetched from jwks_url).
ALTER TABLE clients ADD COLUMN auth_method   TEXT NOT NULL DEFAULT 'client_secret_basic';
ALTER TABLE clients ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks          TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_url      TEXT NOT NULL DEFAULT '';

-- password_hash is an argon2id PHC string; totp_secret the base32 TOTP
-- seed. organization and verified describe the user to the access policy.
-- revoked_before: sessions and tokens issued before it are void (a
-- password change or "sign out everywhere" moves it to now).
CREATE TABLE users (
    tenant_id      TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    username       TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL DEFAULT '',
    fhir_user      TEXT    NOT NULL DEFAULT '',
    roles          TEXT    NOT NULL DEFAULT '',
    organization   TEXT    NOT NULL DEFAULT '',
    verified       INTEGER NOT NULL DEFAULT 0,
    totp_secret    TEXT    NOT NULL DEFAULT '',
    totp_enabled   INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER NOT NULL DEFAULT 0,
    revoked_before INTEGER NOT NULL DEFAULT 0,
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id),
    UNIQUE (tenant_id, username)
);

-- Browser login sessions; session_id is the SHA-256 of the cookie value.
CREATE TABLE auth_sessions (
    tenant_id  TEXT    NOT NULL,
    session_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    mfa_done   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, session_id),
    UNIQUE (session_id)
);
CREATE INDEX auth_sessions_user ON auth_sessions (tenant_id, user_id);

-- Refresh tokens, by SHA-256 of the token. chain_id groups the rotations
-- of one grant: presenting a used token revokes the whole chain.
CREATE TABLE refresh_tokens (
    tenant_id  TEXT    NOT NULL,
    token_hash TEXT    NOT NULL,
    chain_id   TEXT    NOT NULL,
    user_id    TEXT    NOT NULL DEFAULT '',
    client_id  TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0,
    revoked    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, token_hash),
    UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_chain ON refresh_tokens (tenant_id, chain_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (tenant_id, user_id);

-- Short-lived items keyed by kind and id: pending authorization requests,
-- codes, EHR launch contexts, client-assertion jti values seen, revoked
-- access-token ids. Expired rows are dead and swept.
CREATE TABLE auth_items (
    tenant_id  TEXT    NOT NULL DEFAULT '',
    kind       TEXT    NOT NULL,
    item_id    TEXT    NOT NULL,
    data       BLOB    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, item_id)
);
CREATE INDEX auth_items_expiry ON auth_items (kind, expires_at);
