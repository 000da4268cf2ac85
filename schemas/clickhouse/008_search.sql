-- Search across transcripts (GET /api/search; see docs/storage.md): an n-gram
-- bloom filter over the lower-cased text of utterances, so a search
-- (`lowerUTF8(text) LIKE '%word%word%'`) reads only the granules that can hold
-- every 3-gram of its words. The search checks each candidate's words itself.
-- The parameters: 3-grams, a 64 KiB filter per granule, 2 hash functions.
ALTER TABLE utterances ADD INDEX IF NOT EXISTS text_ngram lowerUTF8(text) TYPE ngrambf_v1(3, 65536, 2, 0) GRANULARITY 1;
-- Build it for the parts written before this migration (a mutation, run in the background).
ALTER TABLE utterances MATERIALIZE INDEX text_ngram;
