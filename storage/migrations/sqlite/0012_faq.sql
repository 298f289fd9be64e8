-- FAQ answers: offered to a new ticket's customer when its first message matches an entry's
-- keywords. An entry has one text per language ('' = every language without its own).
CREATE TABLE faq_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL DEFAULT '',
    keywords    TEXT NOT NULL,
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (name, language)
);

-- The FAQ answer a ticket was offered, and what the customer said: NULL while waiting,
-- 'solved' (the ticket closed as self-served) or 'escalated' (brought to the team).
CREATE TABLE faq_offers (
    ticket_id   BIGINT PRIMARY KEY REFERENCES tickets (id),
    faq_name    TEXT NOT NULL,
    offered_at  BIGINT NOT NULL,
    outcome     TEXT CHECK (outcome IN ('solved', 'escalated')),
    answered_at BIGINT
);
