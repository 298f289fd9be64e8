-- Ticket lists over a million tickets: each view's first page walks an index in its order and
-- stops after a page; counts of open work read an index; counts of closed and merged tickets
-- are kept as they change.
CREATE INDEX tickets_active_updated ON tickets (updated_at, id) WHERE status IN ('open', 'pending');
CREATE INDEX tickets_updated ON tickets (updated_at, id);
-- Open work by assignee (or none) and by team, each in activity order.
CREATE INDEX tickets_active_assignee ON tickets (assignee_id, updated_at, id) WHERE status IN ('open', 'pending');
CREATE INDEX tickets_active_team ON tickets (team_id, updated_at, id) WHERE status IN ('open', 'pending');

-- How many tickets are closed and merged: the sum of `delta` per status. Every change adds a
-- row (no row is ever updated, so writers never wait on each other); housekeeping folds the
-- rows of each status into one from time to time.
CREATE TABLE ticket_status_counts (
    id     BIGSERIAL PRIMARY KEY,
    status TEXT NOT NULL,
    delta  BIGINT NOT NULL
);
INSERT INTO ticket_status_counts (status, delta)
    SELECT status, COUNT(*) FROM tickets WHERE status IN ('closed', 'merged') GROUP BY status;

CREATE FUNCTION ticket_status_count() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ('closed', 'merged') THEN
        INSERT INTO ticket_status_counts (status, delta) VALUES (OLD.status, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status IN ('closed', 'merged') THEN
        INSERT INTO ticket_status_counts (status, delta) VALUES (NEW.status, 1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER tickets_status_count_rows AFTER INSERT OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_status_count();
CREATE TRIGGER tickets_status_count_update AFTER UPDATE OF status ON tickets
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ticket_status_count();
