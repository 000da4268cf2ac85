-- Comments anchored to the transcript: the line a comment is about (`turn`, the
-- utterances.turn of the call's current version), the words (`start_s` to
-- `end_s`, seconds from the start of the recording) and when its author last
-- edited it (an edit is a new version of the row, `created_at` unchanged).
-- Comments written before this migration have NULL in all four and keep `at_s`.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS turn Nullable(UInt32) AFTER at_s;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS start_s Nullable(Float64) AFTER turn;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS end_s Nullable(Float64) AFTER start_s;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS edited_at Nullable(DateTime64(3, 'UTC')) AFTER created_at;

-- The view's columns are fixed when it is created: recreate it with the new ones.
CREATE OR REPLACE VIEW v_comments AS
SELECT * EXCEPT (is_deleted) FROM comments FINAL;
