-- The searchable values of each AuditEvent (see store.AuditValue), written
-- in the transaction that appends the entry and removed by the purge that
-- removes it. param is a search parameter (agent, agent:identifier,
-- entity, patient, type, subtype, outcome, source); for a local reference
-- system is the target's type and value its id, for a coding or an
-- identifier its system and code or value. The date parameter reads
-- audit_events.recorded.
CREATE TABLE audit_index (
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    param     TEXT    NOT NULL,
    system    TEXT    NOT NULL,
    value     TEXT    NOT NULL
);
-- Lookups by value; system and seq are in the index so that a search's
-- semi-join reads nothing else.
CREATE INDEX audit_index_value ON audit_index (tenant_id, param, value, system, seq);
-- The purge removes a tenant's oldest entries by seq.
CREATE INDEX audit_index_seq ON audit_index (tenant_id, seq);

-- Searches page newest first on (recorded, seq).
DROP INDEX audit_events_recorded;
CREATE INDEX audit_events_recorded ON audit_events (tenant_id, recorded, seq);
