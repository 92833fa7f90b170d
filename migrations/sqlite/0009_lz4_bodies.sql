-- PostgreSQL's 0009 compresses bodies with lz4; SQLite does not compress
-- values, so this step only keeps the two dialects in step.
SELECT 1;
