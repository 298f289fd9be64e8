-- Sign-in for the console and the REST API, PostgreSQL flavour. Keep in step with
-- ../sqlite/0004_auth.sql.

-- Console sign-in: an argon2 PHC string, and a lockout after repeated failures.
ALTER TABLE agents ADD COLUMN password_hash TEXT;
ALTER TABLE agents ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN locked_until BIGINT;

-- Console sessions. Only a hash of the cookie's secret is stored.
CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    agent_id     BIGINT NOT NULL REFERENCES agents (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX console_sessions_agent ON console_sessions (agent_id);

-- REST API bearer tokens, acting as an agent. Only a hash of the token is stored.
CREATE TABLE api_tokens (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    token_hash    TEXT NOT NULL UNIQUE,
    agent_id      BIGINT NOT NULL REFERENCES agents (id),
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
