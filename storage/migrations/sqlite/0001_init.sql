-- Relaydesk schema, SQLite flavour. Times are milliseconds since the Unix epoch (UTC);
-- flags are 0/1 integers. Keep in step with ../postgres/0001_init.sql.

CREATE TABLE teams (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    display_name  TEXT NOT NULL,
    email         TEXT,
    language      TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX customers_email ON customers (email);

CREATE TABLE customer_identities (
    platform      TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    customer_id   BIGINT NOT NULL REFERENCES customers (id),
    display_name  TEXT NOT NULL,
    language      TEXT,
    PRIMARY KEY (platform, external_id)
);
CREATE INDEX customer_identities_customer ON customer_identities (customer_id);

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    email         TEXT UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'agent')),
    on_duty       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

CREATE TABLE agent_identities (
    platform      TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    agent_id      BIGINT NOT NULL REFERENCES agents (id),
    display_name  TEXT NOT NULL,
    PRIMARY KEY (platform, external_id)
);

CREATE TABLE agent_teams (
    agent_id  BIGINT NOT NULL REFERENCES agents (id),
    team_id   BIGINT NOT NULL REFERENCES teams (id),
    PRIMARY KEY (agent_id, team_id)
);

CREATE TABLE tickets (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    number                    BIGINT NOT NULL UNIQUE,
    subject                   TEXT NOT NULL,
    customer_id               BIGINT NOT NULL REFERENCES customers (id),
    origin                    TEXT NOT NULL,
    conversation              TEXT NOT NULL,
    status                    TEXT NOT NULL CHECK (status IN ('open', 'pending', 'closed', 'merged')),
    priority                  TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    assignee_id               BIGINT REFERENCES agents (id),
    team_id                   BIGINT REFERENCES teams (id),
    merged_into               BIGINT REFERENCES tickets (id),
    previous_ticket_id        BIGINT REFERENCES tickets (id),
    close_reason              TEXT,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL,
    first_agent_reply_at      BIGINT,
    last_customer_message_at  BIGINT,
    last_agent_reply_at       BIGINT,
    closed_at                 BIGINT
);
-- At most one active ticket per customer conversation: concurrent first messages open one ticket.
CREATE UNIQUE INDEX tickets_one_active ON tickets (origin, conversation) WHERE status IN ('open', 'pending');
CREATE INDEX tickets_conversation ON tickets (origin, conversation, id);
CREATE INDEX tickets_status ON tickets (status, updated_at);

CREATE TABLE ticket_tags (
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    tag        TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id     BIGINT NOT NULL REFERENCES tickets (id),
    author_kind   TEXT NOT NULL CHECK (author_kind IN ('customer', 'agent', 'system')),
    customer_id   BIGINT REFERENCES customers (id),
    agent_id      BIGINT REFERENCES agents (id),
    author_name   TEXT NOT NULL,
    body          TEXT NOT NULL,
    attachments   TEXT NOT NULL DEFAULT '[]',
    internal      BIGINT NOT NULL DEFAULT 0,
    platform      TEXT NOT NULL,
    external_id   TEXT,
    created_at    BIGINT NOT NULL,
    UNIQUE (platform, external_id)
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);

CREATE TABLE staff_threads (
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    platform    TEXT NOT NULL,
    thread_ref  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, platform),
    UNIQUE (platform, thread_ref)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   BIGINT REFERENCES tickets (id),
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_log_ticket ON audit_log (ticket_id, id);

-- One row per send still owed to a platform. Rows of one lane are delivered strictly in id order.
-- ticket_id is empty for posts that belong to no ticket (team alerts, summaries).
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id        BIGINT REFERENCES tickets (id),
    lane             TEXT NOT NULL,
    platform         TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    external_ref     TEXT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT
);
CREATE INDEX outbox_pending_due ON outbox (platform, next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_pending_lane ON outbox (lane, id) WHERE status = 'pending';
