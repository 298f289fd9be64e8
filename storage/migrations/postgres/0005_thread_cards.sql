-- Ticket cards, PostgreSQL flavour. Keep in step with ../sqlite/0005_thread_cards.sql.

-- The platform's id of the ticket card posted when the thread was opened, so the card can be
-- edited when what it shows changes. Empty for threads opened before cards were remembered.
ALTER TABLE staff_threads ADD COLUMN card_ref TEXT;
