-- Posts to console channels (SLA warnings, daily summaries), PostgreSQL flavour. Keep in step
-- with ../sqlite/0007_console_posts.sql.
CREATE TABLE console_posts (
    id          BIGSERIAL PRIMARY KEY,
    channel     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX console_posts_channel ON console_posts (channel, id);
