-- A customer's message updates its ticket's activity columns; most such updates change no
-- indexed column (see ACTIVITY_STEP_MS) and PostgreSQL can keep the new row version on the same
-- page, with no new index entries (a HOT update), when the page has room. Leave a fifth of each
-- new page free for them.
ALTER TABLE tickets SET (fillfactor = 80);
