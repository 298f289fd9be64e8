-- PostgreSQL leaves room on the tickets table's pages for in-place updates; SQLite has no such
-- setting. This keeps the two lists of migrations in step.
SELECT 1;
