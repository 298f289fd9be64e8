-- Failed console sign-ins, counted per email typed (address ''), per client address
-- (email '') and per pair, so that one address cannot lock an agent out for everyone and
-- unknown emails are counted exactly like known ones.
CREATE TABLE sign_in_failures (
    email        TEXT NOT NULL,
    address      TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    first_at     BIGINT NOT NULL,
    locked_until BIGINT,
    PRIMARY KEY (email, address)
);
