-- Search across transcripts, scoped inside the index (issue 18's speed target:
-- p95 < 50 ms at 50 k calls). 007_search indexed only the text, so a frequent
-- word made SQLite look up every matching utterance (tens of thousands) to
-- filter by seller and date. This index also holds, per utterance, tokens for
-- its seller and month, its month, its day, and its call, in the column
-- `scope`:
--   sm<HEX(seller_id)>x<YYYYMM>   m<YYYYMM>   d<YYYYMMDD>   c<HEX(call_id)>
-- (HEX of the UTF-8 bytes, months and days of started_at in UTC), so a search asks the
-- index for the phrase AND the scope's tokens and reads only those lines.
-- The tokens only narrow the candidates; the search still filters on the
-- columns of `utterances` and checks each text.
-- Contentless (the text stays only in `utterances`), deletable by rowid; the
-- triggers keep it in step with every write, reprocess and erasure. Words are
-- runs of letters and digits (unicode61), case-folded, diacritics kept.
-- To rebuild it (a manual VACUUM renumbers rowids, which loses hits, never
-- shows wrong ones): INSERT INTO utterance_search (utterance_search) VALUES
-- ('delete-all'), then the INSERT … SELECT at the end of this file.
DROP TRIGGER IF EXISTS utterance_search_insert;
DROP TRIGGER IF EXISTS utterance_search_delete;
DROP TRIGGER IF EXISTS utterance_search_update;
DROP TABLE IF EXISTS utterance_search;
CREATE VIRTUAL TABLE utterance_search USING fts5 (
    text,
    scope,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
-- One line per trigger: migrations split statements at a `;` ending a line.
CREATE TRIGGER utterance_search_insert AFTER INSERT ON utterances BEGIN INSERT INTO utterance_search (rowid, text, scope) VALUES (new.rowid, new.text, 'sm' || hex(new.seller_id) || 'x' || strftime('%Y%m', new.started_at / 1000, 'unixepoch') || ' m' || strftime('%Y%m', new.started_at / 1000, 'unixepoch') || ' d' || strftime('%Y%m%d', new.started_at / 1000, 'unixepoch') || ' c' || hex(new.call_id)); END;
CREATE TRIGGER utterance_search_delete AFTER DELETE ON utterances BEGIN DELETE FROM utterance_search WHERE rowid = old.rowid; END;
CREATE TRIGGER utterance_search_update AFTER UPDATE ON utterances BEGIN DELETE FROM utterance_search WHERE rowid = old.rowid; INSERT INTO utterance_search (rowid, text, scope) VALUES (new.rowid, new.text, 'sm' || hex(new.seller_id) || 'x' || strftime('%Y%m', new.started_at / 1000, 'unixepoch') || ' m' || strftime('%Y%m', new.started_at / 1000, 'unixepoch') || ' d' || strftime('%Y%m%d', new.started_at / 1000, 'unixepoch') || ' c' || hex(new.call_id)); END;
-- The utterances stored before this migration.
INSERT INTO utterance_search (rowid, text, scope) SELECT rowid, text, 'sm' || hex(seller_id) || 'x' || strftime('%Y%m', started_at / 1000, 'unixepoch') || ' m' || strftime('%Y%m', started_at / 1000, 'unixepoch') || ' d' || strftime('%Y%m%d', started_at / 1000, 'unixepoch') || ' c' || hex(call_id) FROM utterances;
