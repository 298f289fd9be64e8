-- Platform events that are not stored as messages (agent commands typed in a ticket thread),
-- remembered by the platform's id so a redelivered event is not applied twice.
CREATE TABLE inbound_events (
    platform     TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (platform, external_id)
);
