-- Search across transcripts, part 2 (issue 18's speed target: p95 < 300 ms at
-- 1 M calls): an index over the words of each utterance as the search splits
-- them (runs of Unicode letters and digits; everything else becomes a space),
-- lower-cased. A search adds hasToken(<this same expression>, 'word') to its
-- LIKE for each word, so it reads only the granules that hold every word; the
-- search still checks each candidate's words itself.
-- A full-text (inverted) index where the server has one (ClickHouse 26.2 and
-- later); on older servers the migration runner uses the same expression with
-- TYPE tokenbf_v1(16384, 3, 0) GRANULARITY 1 instead (see clickhouse/migrate.rs).
-- The query's expression must stay exactly this one, or the index is not used.
ALTER TABLE utterances ADD INDEX IF NOT EXISTS text_words lowerUTF8(replaceRegexpAll(text, '[^\\p{L}\\p{N}]+', ' ')) TYPE text(tokenizer = 'splitByNonAlpha');
-- Build it for the parts written before this migration (a background mutation;
-- until it ends, searches of those parts are exact but slow).
ALTER TABLE utterances MATERIALIZE INDEX text_words;
-- 008's n-gram index skips no granule on real amounts of text (every 8,192
-- lines hold nearly every 3-gram) and costs every insert: dropped.
ALTER TABLE utterances DROP INDEX IF EXISTS text_ngram;
