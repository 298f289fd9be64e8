-- `/split`: a ticket split off another keeps the customer's conversation (agents' replies
-- reach the customer as before) and names the ticket it came from. The customer's new
-- messages keep going to the conversation's ticket that was not split off, so the rule "one
-- active ticket per conversation" now holds for those.
ALTER TABLE tickets ADD COLUMN split_from BIGINT REFERENCES tickets (id);
DROP INDEX tickets_one_active;
CREATE UNIQUE INDEX tickets_one_active ON tickets (origin, conversation)
    WHERE status IN ('open', 'pending') AND split_from IS NULL;
CREATE INDEX tickets_split_from ON tickets (split_from) WHERE split_from IS NOT NULL;
