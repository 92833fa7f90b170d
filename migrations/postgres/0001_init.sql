-- Hearth schema, PostgreSQL. Every table leads with tenant_id: it is the
-- distribution column should one server be outgrown (Citus and friends) and
-- every query filters on it. Times are BIGINT microseconds since the epoch,
-- UTC, so both backends store exactly the same values.

CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE tenants (
    tenant_id  TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

-- The current version of each resource. body is BYTEA, not jsonb: it holds
-- the validated JSON exactly as it is served, byte for byte.
CREATE TABLE resources (
    tenant_id    TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    last_updated BIGINT  NOT NULL,
    deleted      BOOLEAN NOT NULL DEFAULT false,
    body         BYTEA,
    PRIMARY KEY (tenant_id, type, id)
);

-- Every version, delete markers included. seq is one global sequence: it
-- orders history newest first and is the paging cursor.
CREATE TABLE resource_history (
    seq          BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    last_updated BIGINT  NOT NULL,
    deleted      BOOLEAN NOT NULL DEFAULT false,
    body         BYTEA,
    UNIQUE (tenant_id, type, id, version)
);
CREATE INDEX resource_history_tenant_seq ON resource_history (tenant_id, seq);
CREATE INDEX resource_history_type_seq ON resource_history (tenant_id, type, seq);

-- Token index rows of current, non-deleted resources. No unique key: a Put
-- deletes and inserts a resource's rows in one statement, and both halves
-- see the same snapshot, so old and new rows may briefly coexist.
CREATE TABLE token_idx (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    id        TEXT NOT NULL,
    param     TEXT NOT NULL,
    system    TEXT NOT NULL DEFAULT '',
    code      TEXT NOT NULL
);
CREATE INDEX token_idx_lookup ON token_idx (tenant_id, type, param, code, system);
-- Serves the replace-on-write and delete of one resource's rows.
CREATE INDEX token_idx_resource ON token_idx (tenant_id, type, id);

-- OAuth clients. client_id is unique across tenants because the token
-- endpoint learns the tenant from the client.
CREATE TABLE clients (
    tenant_id   TEXT    NOT NULL,
    client_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    secret_hash BYTEA,
    scopes      TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    disabled    BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, client_id),
    UNIQUE (client_id)
);

-- Token signing keys; server-wide keys have tenant_id ''.
CREATE TABLE signing_keys (
    tenant_id   TEXT   NOT NULL DEFAULT '',
    kid         TEXT   NOT NULL,
    alg         TEXT   NOT NULL,
    private_der BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kid)
);
