-- Tenant keys for field encryption (crypt.KeyStore). Keys are stored only
-- wrapped by the master key (KEK), whose fingerprint is kek_id. purpose
-- 'data' rows are the tenant's data-encryption keys, one per version;
-- 'index' is its blind-index key. Deleting a tenant's rows is
-- crypto-shredding: every ciphertext of the tenant becomes unreadable.
-- (0002 belongs to search.)
CREATE TABLE tenant_keys (
    tenant_id  TEXT    NOT NULL,
    purpose    TEXT    NOT NULL CHECK (purpose IN ('data', 'index')),
    version    INTEGER NOT NULL CHECK (version > 0),
    kek_id     TEXT    NOT NULL,
    wrapped    BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
);
