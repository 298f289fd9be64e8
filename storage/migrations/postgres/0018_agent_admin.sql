-- Agent administration: a disabled agent cannot sign in, use API tokens or run commands from
-- chat; an agent whose password was set by an admin must choose their own at the next sign-in.
ALTER TABLE agents ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
