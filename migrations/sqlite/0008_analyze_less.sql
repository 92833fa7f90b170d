-- PostgreSQL's 0008 lowers its per-column statistics targets; SQLite keeps
-- no such setting, so this step only keeps the two dialects in step.
SELECT 1;
