-- Outbound webhooks: one row per (endpoint, event), written in the transaction that made the
-- change. Rows of one endpoint and ticket go out in order (`lane`), one at a time; `delivery`
-- is the id the receiver sees on every attempt; `body` is fixed at the first attempt so a
-- retry sends the same bytes.
CREATE TABLE webhook_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    endpoint         TEXT NOT NULL,
    event            TEXT NOT NULL,
    ticket_id        BIGINT NOT NULL REFERENCES tickets (id),
    message_id       BIGINT,
    lane             TEXT NOT NULL,
    delivery         TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_owner      TEXT,
    lease_until      BIGINT,
    body             TEXT,
    response_status  BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (lane, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (endpoint, id);
