-- Hearth schema, SQLite. Same tables and meaning as the PostgreSQL schema;
-- booleans are INTEGER 0/1, times INTEGER microseconds since the epoch, UTC.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE tenants (
    tenant_id  TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- body holds the resource JSON exactly as it is served.
CREATE TABLE resources (
    tenant_id    TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    body         BLOB,
    PRIMARY KEY (tenant_id, type, id)
);

-- AUTOINCREMENT so a seq is never reused, even after the newest row is
-- gone: seq is the history paging cursor.
CREATE TABLE resource_history (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0,
    body         BLOB,
    UNIQUE (tenant_id, type, id, version)
);
CREATE INDEX resource_history_tenant_seq ON resource_history (tenant_id, seq);
CREATE INDEX resource_history_type_seq ON resource_history (tenant_id, type, seq);

CREATE TABLE token_idx (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    id        TEXT NOT NULL,
    param     TEXT NOT NULL,
    system    TEXT NOT NULL DEFAULT '',
    code      TEXT NOT NULL
);
CREATE INDEX token_idx_lookup ON token_idx (tenant_id, type, param, code, system);
CREATE INDEX token_idx_resource ON token_idx (tenant_id, type, id);

CREATE TABLE clients (
    tenant_id   TEXT    NOT NULL,
    client_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    secret_hash BLOB,
    scopes      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, client_id),
    UNIQUE (client_id)
);

CREATE TABLE signing_keys (
    tenant_id   TEXT    NOT NULL DEFAULT '',
    kid         TEXT    NOT NULL,
    alg         TEXT    NOT NULL,
    private_der BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kid)
);
