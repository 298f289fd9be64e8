-- What the widget shows beside the messages: a survey ("How did we do?") or an FAQ answer with
-- buttons, or a notice (out of business hours), once per survey, offer or ticket, read by the
-- visitor's socket like the conversation's messages.
CREATE TABLE widget_prompts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation TEXT NOT NULL,
    ticket_id    BIGINT NOT NULL REFERENCES tickets (id),
    kind         TEXT NOT NULL CHECK (kind IN ('survey', 'faq', 'notice')),
    -- The survey's id, or the ticket's id (FAQ answer, notice): what a press names.
    subject_id   BIGINT NOT NULL,
    body         TEXT NOT NULL,
    -- Button labels, one per line (the FAQ's two; a survey's buttons are its ratings).
    labels       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    UNIQUE (kind, subject_id)
);
CREATE INDEX widget_prompts_conversation ON widget_prompts (conversation, id);
-- A customer's words after their rating.
ALTER TABLE csat_surveys ADD COLUMN comment TEXT;
ALTER TABLE csat_surveys ADD COLUMN commented_at BIGINT;
