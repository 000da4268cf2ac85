-- Search across transcripts (GET /api/search; see docs/storage.md): an FTS5
-- index over utterances.text. External content: the text stays only in
-- `utterances`, the index maps its words to utterances' rowids, and the
-- triggers below keep it in step with every write, reprocess (the old rows are
-- deleted, the new inserted) and erasure. Words are runs of letters and digits
-- (unicode61), case-folded, diacritics kept (Finnish a and ä differ).
-- The search checks each hit's text itself, so an index out of step (a manual
-- VACUUM renumbers rowids) loses hits, never shows wrong ones; rebuild it with
-- INSERT INTO utterance_search (utterance_search) VALUES ('rebuild').
CREATE VIRTUAL TABLE IF NOT EXISTS utterance_search USING fts5 (
    text,
    content = 'utterances',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 0'
);
-- One line per trigger: migrations split statements at a `;` ending a line.
CREATE TRIGGER IF NOT EXISTS utterance_search_insert AFTER INSERT ON utterances BEGIN INSERT INTO utterance_search (rowid, text) VALUES (new.rowid, new.text); END;
CREATE TRIGGER IF NOT EXISTS utterance_search_delete AFTER DELETE ON utterances BEGIN INSERT INTO utterance_search (utterance_search, rowid, text) VALUES ('delete', old.rowid, old.text); END;
CREATE TRIGGER IF NOT EXISTS utterance_search_update AFTER UPDATE ON utterances BEGIN INSERT INTO utterance_search (utterance_search, rowid, text) VALUES ('delete', old.rowid, old.text); INSERT INTO utterance_search (rowid, text) VALUES (new.rowid, new.text); END;
-- The utterances stored before this migration.
INSERT INTO utterance_search (utterance_search) VALUES ('rebuild');
