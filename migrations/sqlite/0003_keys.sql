-- Tenant keys for field encryption (crypt.KeyStore); see the PostgreSQL
-- migration of the same name. (0002 belongs to search.)
CREATE TABLE tenant_keys (
    tenant_id  TEXT    NOT NULL,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('data', 'index')),
    version    INTEGER NOT NULL CHECK (version > 0),
    kek_id     TEXT    NOT NULL,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
);
