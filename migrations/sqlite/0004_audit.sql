-- The audit log: one hash chain of AuditEvents per tenant (see package
-- audit). seq counts 1, 2, 3 … per tenant without gaps; hash is
-- SHA-256(prev_hash || body). body is the AuditEvent JSON as served.
CREATE TABLE audit_events (
    tenant_id TEXT   NOT NULL,
    seq       INTEGER NOT NULL,
    id        TEXT   NOT NULL,
    recorded  INTEGER NOT NULL,
    prev_hash BLOB   NOT NULL,
    hash      BLOB   NOT NULL,
    body      BLOB   NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX audit_events_id ON audit_events (tenant_id, id);
CREATE INDEX audit_events_recorded ON audit_events (tenant_id, recorded);

-- Where each tenant's chain stands. SQLite has one writer, which
-- serialises appends. anchor_* is the last entry a
-- purge removed: the first remaining entry must link to anchor_hash.
CREATE TABLE audit_chain (
    tenant_id   TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    hash        BLOB   NOT NULL,
    anchor_seq  INTEGER NOT NULL,
    anchor_hash BLOB   NOT NULL
);
