-- Search index tables, SQLite. Same tables and meaning as the PostgreSQL
-- schema. One table per search parameter type (token_idx is in
-- 0001). Each holds one row per value of a parameter of a current,
-- non-deleted resource; a write replaces the resource's rows in the same
-- transaction. Rows carry the resource's tenant, type and id; `param` is the
-- search parameter code (or a derived name such as code:text).
--
-- Every table has an index that leads with (tenant_id, type, param, …) for
-- the searches, and one on (tenant_id, type, id, param) for replacing a
-- resource's rows, sorting, :missing and :not.

-- Strings: value is normalised (lower case, accents removed) and compared
-- byte for byte (BINARY collation), so that a prefix match is an
-- index range scan; exact is the value as written, for :exact.
CREATE TABLE string_idx (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    id        TEXT NOT NULL,
    param     TEXT NOT NULL,
    value     TEXT NOT NULL,
    exact     TEXT NOT NULL
);
CREATE INDEX string_idx_lookup ON string_idx (tenant_id, type, param, value);
CREATE INDEX string_idx_resource ON string_idx (tenant_id, type, id, param);

CREATE INDEX token_idx_resource_param ON token_idx (tenant_id, type, id, param);
DROP INDEX token_idx_resource;

-- Dates as the range of instants they cover, microseconds, both ends
-- inclusive; open ends of a Period are the INTEGER extremes.
CREATE TABLE date_idx (
    tenant_id TEXT   NOT NULL,
    type      TEXT   NOT NULL,
    id        TEXT   NOT NULL,
    param     TEXT   NOT NULL,
    low       INTEGER NOT NULL,
    high      INTEGER NOT NULL
);
CREATE INDEX date_idx_low ON date_idx (tenant_id, type, param, low, high);
CREATE INDEX date_idx_high ON date_idx (tenant_id, type, param, high);
CREATE INDEX date_idx_resource ON date_idx (tenant_id, type, id, param);

CREATE TABLE number_idx (
    tenant_id TEXT             NOT NULL,
    type      TEXT             NOT NULL,
    id        TEXT             NOT NULL,
    param     TEXT             NOT NULL,
    value     REAL             NOT NULL
);
CREATE INDEX number_idx_lookup ON number_idx (tenant_id, type, param, value);
CREATE INDEX number_idx_resource ON number_idx (tenant_id, type, id, param);

-- Quantities as written (canonical false) and converted to UCUM base units
-- (canonical true, code the canonical unit).
CREATE TABLE quantity_idx (
    tenant_id TEXT             NOT NULL,
    type      TEXT             NOT NULL,
    id        TEXT             NOT NULL,
    param     TEXT             NOT NULL,
    value     REAL             NOT NULL,
    system    TEXT             NOT NULL DEFAULT '',
    code      TEXT             NOT NULL DEFAULT '',
    canonical INTEGER          NOT NULL DEFAULT 0
);
CREATE INDEX quantity_idx_lookup ON quantity_idx (tenant_id, type, param, code, value);
CREATE INDEX quantity_idx_resource ON quantity_idx (tenant_id, type, id, param);

-- References: to a resource here (target_type, target_id) or by URL
-- (absolute and canonical references; target_type and target_id empty).
-- reference_idx_target serves reverse chains (_has) and _revinclude.
CREATE TABLE reference_idx (
    tenant_id   TEXT NOT NULL,
    type        TEXT NOT NULL,
    id          TEXT NOT NULL,
    param       TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    url         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reference_idx_lookup ON reference_idx (tenant_id, type, param, target_id, target_type);
CREATE INDEX reference_idx_target ON reference_idx (tenant_id, target_type, target_id, type, param);
CREATE INDEX reference_idx_url ON reference_idx (tenant_id, type, param, url) WHERE url <> '';
CREATE INDEX reference_idx_resource ON reference_idx (tenant_id, type, id, param);

CREATE TABLE uri_idx (
    tenant_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    id        TEXT NOT NULL,
    param     TEXT NOT NULL,
    value     TEXT NOT NULL
);
CREATE INDEX uri_idx_lookup ON uri_idx (tenant_id, type, param, value);
CREATE INDEX uri_idx_resource ON uri_idx (tenant_id, type, id, param);

-- Sorting by _lastUpdated, and its range searches.
CREATE INDEX resources_last_updated ON resources (tenant_id, type, last_updated);
