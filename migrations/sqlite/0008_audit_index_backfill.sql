-- Index the AuditEvents appended before 0006. Appends index their own
-- entries (package audit extracts the values from the event); this
-- computes the same values from the stored bodies once, and
-- audit/index_test.go checks that both agree. Encrypted elements
-- (entity.query, entity.description) are not read. A reference is local
-- when it is relative, Type/id with an optional /_history/version; absolute
-- references, which Hearth's own events do not hold, are indexed as URLs.
-- Bodies are cast to TEXT: SQLite reads a BLOB as binary JSONB.
INSERT INTO audit_index (tenant_id, seq, recorded, param, system, value)
WITH ev AS (
    SELECT tenant_id, seq, CAST(body AS TEXT) AS b FROM audit_events
), refs AS (
    SELECT tenant_id, seq, 'agent' AS param, json_extract(a.value, '$.who.reference') AS ref
    FROM ev, json_each(ev.b, '$.agent') a
    UNION ALL
    SELECT tenant_id, seq, 'entity', json_extract(x.value, '$.what.reference')
    FROM ev, json_each(ev.b, '$.entity') x
), local AS (
    SELECT tenant_id, seq, param, ref,
        ref GLOB '[A-Z]*/*' AND ref NOT GLOB '*:*' AND ref NOT GLOB '*/*/*'
            OR ref GLOB '[A-Z]*/*/_history/*' AND ref NOT GLOB '*:*' AS is_local,
        substr(ref, 1, instr(ref, '/') - 1) AS typ,
        substr(ref, instr(ref, '/') + 1) AS rest
    FROM refs WHERE ref <> ''
), vals AS (
    SELECT tenant_id, seq, 'outcome' AS param, '' AS system, json_extract(b, '$.outcome') AS value FROM ev
    UNION ALL
    SELECT tenant_id, seq, 'type', coalesce(json_extract(b, '$.type.system'), ''), json_extract(b, '$.type.code') FROM ev
    UNION ALL
    SELECT tenant_id, seq, 'subtype', coalesce(json_extract(s.value, '$.system'), ''), json_extract(s.value, '$.code')
    FROM ev, json_each(ev.b, '$.subtype') s
    UNION ALL
    SELECT tenant_id, seq, 'source', 'Device', json_extract(b, '$.source.observer.display') FROM ev
    UNION ALL
    SELECT tenant_id, seq, 'agent:identifier', coalesce(json_extract(a.value, '$.who.identifier.system'), ''),
        json_extract(a.value, '$.who.identifier.value')
    FROM ev, json_each(ev.b, '$.agent') a
    UNION ALL
    SELECT tenant_id, seq, param, typ,
        CASE WHEN instr(rest, '/') > 0 THEN substr(rest, 1, instr(rest, '/') - 1) ELSE rest END
    FROM local WHERE is_local
    UNION ALL
    SELECT tenant_id, seq, param, '', ref FROM local WHERE NOT is_local
)
SELECT DISTINCT v.tenant_id, v.seq, e.recorded, v.param, v.system, v.value
FROM vals v JOIN audit_events e ON e.tenant_id = v.tenant_id AND e.seq = v.seq
WHERE v.value IS NOT NULL AND v.value <> '';
