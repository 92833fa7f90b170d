-- Index the AuditEvents appended before 0006. Appends index their own
-- entries (package audit extracts the values from the event); this
-- computes the same values from the stored bodies once, and
-- audit/index_test.go checks that both agree. Encrypted elements
-- (entity.query, entity.description) are not read. A reference is local
-- when it is relative, Type/id with an optional /_history/version; absolute
-- references, which Hearth's own events do not hold, are indexed as URLs.
WITH ev AS (
    SELECT tenant_id, seq, convert_from(body, 'UTF8')::jsonb AS b FROM audit_events
), refs AS (
    SELECT tenant_id, seq, 'agent' AS param, a->'who'->>'reference' AS ref
    FROM ev, jsonb_array_elements(coalesce(b->'agent', '[]')) a
    UNION ALL
    SELECT tenant_id, seq, 'entity', x->'what'->>'reference'
    FROM ev, jsonb_array_elements(coalesce(b->'entity', '[]')) x
), local AS (
    SELECT tenant_id, seq, param, ref,
        ref ~ '^[A-Z][A-Za-z]{1,63}/[A-Za-z0-9.-]{1,64}(/_history/[A-Za-z0-9.-]{1,64})?$' AS is_local
    FROM refs WHERE ref <> ''
), vals AS (
    SELECT tenant_id, seq, 'outcome' AS param, '' AS system, b->>'outcome' AS value FROM ev
    UNION ALL
    SELECT tenant_id, seq, 'type', coalesce(b->'type'->>'system', ''), b->'type'->>'code' FROM ev
    UNION ALL
    SELECT tenant_id, seq, 'subtype', coalesce(s->>'system', ''), s->>'code'
    FROM ev, jsonb_array_elements(coalesce(b->'subtype', '[]')) s
    UNION ALL
    SELECT tenant_id, seq, 'source', 'Device', b->'source'->'observer'->>'display' FROM ev
    UNION ALL
    SELECT tenant_id, seq, 'agent:identifier', coalesce(a->'who'->'identifier'->>'system', ''), a->'who'->'identifier'->>'value'
    FROM ev, jsonb_array_elements(coalesce(b->'agent', '[]')) a
    UNION ALL
    SELECT tenant_id, seq, param, split_part(ref, '/', 1), split_part(ref, '/', 2) FROM local WHERE is_local
    UNION ALL
    SELECT tenant_id, seq, param, '', ref FROM local WHERE NOT is_local
)
INSERT INTO audit_index (tenant_id, seq, recorded, param, system, value)
SELECT DISTINCT v.tenant_id, v.seq, e.recorded, v.param, v.system, v.value
FROM vals v JOIN audit_events e ON e.tenant_id = v.tenant_id AND e.seq = v.seq
WHERE v.value IS NOT NULL AND v.value <> '';
