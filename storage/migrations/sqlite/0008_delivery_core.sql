-- Delivery core: send pacing shared by every instance, staff posts held until their thread is
-- linked, and the text that shares the ticket card's message. Keep the SQLite and PostgreSQL
-- flavours of this file in step.

-- The next moment a send may go out under each pace (e.g. `telegram:group:-100123`).
CREATE TABLE pacing (
    pace_key  TEXT PRIMARY KEY,
    next_at   BIGINT NOT NULL
);

-- Staff posts written in a thread the store did not know yet (a topic created a moment before
-- its ticket was linked to it). They are ingested when the link commits.
CREATE TABLE held_staff_posts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    platform     TEXT NOT NULL,
    thread_ref   TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (platform, external_id)
);
CREATE INDEX held_staff_posts_thread ON held_staff_posts (platform, thread_ref);

-- The text posted in the same message as the ticket card (the ticket's first post), so that
-- redrawing the card keeps it.
ALTER TABLE staff_threads ADD COLUMN card_tail TEXT;

-- The message a send carries to the customer, so agents can see whether their reply went out
-- (queued, sent, failed and why).
ALTER TABLE outbox ADD COLUMN message_id BIGINT;
CREATE INDEX outbox_message ON outbox (ticket_id, message_id) WHERE message_id IS NOT NULL;
