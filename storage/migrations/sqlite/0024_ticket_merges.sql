-- How many tickets were merged into this one: a reply looks for the merged conversations it
-- must also reach only when there are some.
ALTER TABLE tickets ADD COLUMN merges BIGINT NOT NULL DEFAULT 0;
UPDATE tickets SET merges = (SELECT COUNT(*) FROM tickets s WHERE s.merged_into = tickets.id);
