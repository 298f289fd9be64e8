-- Ticket cards and joined posts, PostgreSQL flavour. Keep in step with
-- ../sqlite/0005_cards_and_joined_posts.sql.

-- The platform's id of the ticket card posted when the thread was opened, so the card can be
-- edited when what it shows changes. Empty for threads opened before cards were remembered.
ALTER TABLE staff_threads ADD COLUMN card_ref TEXT;

-- Customer texts sent together as one post: the rows joined to a lane's head. A retry after a
-- send that may have happened sends the same rows again, so the platform can recognise it.
ALTER TABLE outbox ADD COLUMN joined_to BIGINT;
CREATE INDEX outbox_pending_joined ON outbox (joined_to) WHERE status = 'pending';
