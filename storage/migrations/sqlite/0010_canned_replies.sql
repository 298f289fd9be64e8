-- Canned replies: saved answers an agent sends with `/canned NAME`. A name has one text per
-- language; language '' is the text for customers whose language has none of its own.
CREATE TABLE canned_replies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (name, language)
);
