-- Round-robin assignment: the member of the team who got its last ticket.
ALTER TABLE teams ADD COLUMN last_assigned_agent_id BIGINT;
