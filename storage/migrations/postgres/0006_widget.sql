-- The web chat widget, PostgreSQL flavour. Keep in step with ../sqlite/0006_widget.sql.

-- Server secrets generated on first use (the widget's session signing key), so a restart
-- keeps visitors' sessions valid.
CREATE TABLE web_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Files visitors attached in the widget. `key` is a random, unguessable name used in links.
CREATE TABLE widget_files (
    key           TEXT PRIMARY KEY,
    conversation  TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    mime_type     TEXT NOT NULL,
    size          BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Transcripts mailed after a close: one per ticket and close, however often it is asked for.
CREATE TABLE widget_transcripts (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    closed_at  BIGINT NOT NULL,
    sent_to    TEXT NOT NULL,
    sent_at    BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, closed_at)
);
