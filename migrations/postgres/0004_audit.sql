-- The audit log: one hash chain of AuditEvents per tenant (see package
-- audit). seq counts 1, 2, 3 … per tenant without gaps; hash is
-- SHA-256(prev_hash || body). body is the AuditEvent JSON as served.
CREATE TABLE audit_events (
    tenant_id TEXT   NOT NULL,
    seq       BIGINT NOT NULL,
    id        TEXT   NOT NULL,
    recorded  BIGINT NOT NULL,
    prev_hash BYTEA  NOT NULL,
    hash      BYTEA  NOT NULL,
    body      BYTEA  NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE UNIQUE INDEX audit_events_id ON audit_events (tenant_id, id);
CREATE INDEX audit_events_recorded ON audit_events (tenant_id, recorded);

-- Where each tenant's chain stands. Appends lock this row (SELECT … FOR
-- UPDATE), which serialises them per tenant. anchor_* is the last entry a
-- purge removed: the first remaining entry must link to anchor_hash.
CREATE TABLE audit_chain (
    tenant_id   TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    hash        BYTEA  NOT NULL,
    anchor_seq  BIGINT NOT NULL,
    anchor_hash BYTEA  NOT NULL
);
