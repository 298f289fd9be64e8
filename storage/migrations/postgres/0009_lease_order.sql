-- The lease query walks pending rows in (next_attempt_at, id) order through this index and
-- stops after its limit: the cost follows the rows due, not the table's history (ordering
-- by id alone made PostgreSQL walk the primary key over every delivered row).
CREATE INDEX outbox_pending_due_order ON outbox (platform, next_attempt_at, id) WHERE status = 'pending';
DROP INDEX outbox_pending_due;
