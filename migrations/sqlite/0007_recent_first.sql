-- Newest-first pages walk this index in order and stop after the page (see
-- the PostgreSQL migration of the same number); SQLite sorts NULLs first
-- ascending and so last descending, which is the order searches ask for.
CREATE INDEX resources_recent_first ON resources (tenant_id, type, last_updated DESC, id);
DROP INDEX resources_last_updated;
