-- SLA bookkeeping, PostgreSQL flavour. Keep in step with ../sqlite/0003_sla.sql.

-- Where each ticket's goals stand, as last computed. Due columns are set only while a goal's
-- clock runs. next_due_at is the earliest warning or breach not yet recorded in sla_alerts:
-- the scheduler looks only at rows where it has passed.
CREATE TABLE ticket_sla (
    ticket_id            BIGINT PRIMARY KEY REFERENCES tickets (id),
    policy               TEXT,
    waiting_since        BIGINT,
    first_response_due   BIGINT,
    first_response_warn  BIGINT,
    next_response_due    BIGINT,
    next_response_warn   BIGINT,
    resolution_due       BIGINT,
    resolution_warn      BIGINT,
    next_due_at          BIGINT,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX ticket_sla_next_due ON ticket_sla (next_due_at) WHERE next_due_at IS NOT NULL;

-- Intervals during which a ticket's clock stood still (waiting on the customer, or closed).
CREATE TABLE sla_pauses (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    started_at  BIGINT NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX sla_pauses_ticket ON sla_pauses (ticket_id, started_at);

-- Every due-soon and breach warning, once ever per ticket, goal occurrence and level. Whoever
-- inserts the row posts the warning.
CREATE TABLE sla_alerts (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    goal        TEXT NOT NULL CHECK (goal IN ('first_response', 'next_response', 'resolution')),
    round       BIGINT NOT NULL DEFAULT 0,
    level       TEXT NOT NULL CHECK (level IN ('due_soon', 'breach')),
    due_at      BIGINT NOT NULL,
    posted      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    UNIQUE (ticket_id, goal, round, level)
);
CREATE INDEX sla_alerts_level_due ON sla_alerts (level, due_at);

-- One row per scheduled job tick that ran (daily summaries): the insert decides who runs it.
CREATE TABLE scheduled_runs (
    job     TEXT NOT NULL,
    tick    BIGINT NOT NULL,
    ran_at  BIGINT NOT NULL,
    PRIMARY KEY (job, tick)
);

-- Daily summaries look up replies and closes of the last day.
CREATE INDEX tickets_first_reply ON tickets (first_agent_reply_at) WHERE first_agent_reply_at IS NOT NULL;
CREATE INDEX tickets_closed_at ON tickets (closed_at) WHERE closed_at IS NOT NULL;
