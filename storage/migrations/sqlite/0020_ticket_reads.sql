-- When each agent last looked at each ticket: a ticket whose customer wrote since is unread
-- for that agent.
CREATE TABLE ticket_reads (
    agent_id   BIGINT NOT NULL REFERENCES agents (id),
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id),
    seen_at    BIGINT NOT NULL,
    PRIMARY KEY (agent_id, ticket_id)
);
