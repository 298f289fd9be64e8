-- Satisfaction surveys: one per close of a ticket, sent to the customer's channel with 1–5
-- buttons. A press on the ticket's latest survey stores (or changes) its rating; older surveys
-- are answered politely and change nothing.
CREATE TABLE csat_surveys (
    id          BIGSERIAL PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets (id),
    created_at  BIGINT NOT NULL,
    rating      BIGINT CHECK (rating BETWEEN 1 AND 5),
    rated_at    BIGINT
);
CREATE INDEX csat_surveys_ticket ON csat_surveys (ticket_id, id);
