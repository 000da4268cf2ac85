-- Comments anchored to the transcript (see schemas/clickhouse/005_comment_anchors.sql
-- and docs/storage.md): the line a comment is about (`turn`, as utterances.turn),
-- the words (`start_s` to `end_s`, seconds from the start of the recording), and
-- when its author last edited it. Older comments keep only `at_s` (NULL here)
-- and read as before.
ALTER TABLE comments ADD COLUMN turn INTEGER;
ALTER TABLE comments ADD COLUMN start_s REAL;
ALTER TABLE comments ADD COLUMN end_s REAL;
ALTER TABLE comments ADD COLUMN edited_at INTEGER;
