-- Named leases: one holder at a time for work only one instance may do (polling Telegram).
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    owner  TEXT NOT NULL,
    until  BIGINT NOT NULL
);
