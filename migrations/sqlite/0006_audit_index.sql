-- The searchable values of each AuditEvent (see store.AuditValue). They
-- are written after the entry commits, off the request's path: package
-- audit reads the entries past audit_index_state.seq, extracts their values
-- from the stored bodies and writes them with the new position in one
-- transaction (a background job every few seconds, and every AuditEvent
-- search first). A purge removes them with their entries. param is a
-- search parameter (agent, agent:identifier, entity, type, subtype,
-- outcome, source); for a local reference system is the target's type and
-- value its id, for a coding or an identifier its system and code or
-- value; recorded is the entry's. The date parameter reads recorded;
-- patient reads the agent and entity values of type Patient.
CREATE TABLE audit_index (
    tenant_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    recorded  INTEGER NOT NULL,
    param     TEXT    NOT NULL,
    system    TEXT    NOT NULL,
    value     TEXT    NOT NULL
);
-- A search reads the entries with one value newest (or oldest) first,
-- within a time range: a page costs a page of index entries however many
-- entries hold the value.
CREATE INDEX audit_index_value ON audit_index (tenant_id, param, value, recorded, seq);
-- The purge removes a tenant's oldest entries by seq, and a search checks
-- an entry's other values by it.
CREATE INDEX audit_index_seq ON audit_index (tenant_id, seq);

-- How far each tenant's index goes: entries up to seq are indexed.
CREATE TABLE audit_index_state (
    tenant_id TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL
);

-- Searches page newest first on (recorded, seq).
DROP INDEX audit_events_recorded;
CREATE INDEX audit_events_recorded ON audit_events (tenant_id, recorded, seq);
