-- callscope ClickHouse schema, migration 001: the initial tables.
--
-- Public interface: BI tools query these tables and the v_* views. Column names
-- are stable; changes come as new numbered migrations.
--
-- Reprocessing model (see docs/storage.md): every write of a call carries a new
-- `version`. `calls` and `seller_daily` are ReplacingMergeTree tables that keep
-- the highest version per key (read them with FINAL, or use the v_* views);
-- rows with is_deleted = 1 are tombstones. Child tables (mentions, utterances,
-- action_items, customer_keywords) keep the version they belong to; only rows
-- whose (call_id, version) is the call's current one count (the v_* views do
-- this). Older versions are removed by the writer.

CREATE TABLE IF NOT EXISTS calls
(
    call_id String,
    seller_id LowCardinality(String),
    team LowCardinality(String),
    customer String,
    started_at DateTime64(3, 'UTC'),
    duration_s Float64,
    direction LowCardinality(String),
    outcome LowCardinality(String),
    audio_uri String,
    pipeline_version LowCardinality(String),
    asr_model LowCardinality(String),
    sentiment_model LowCardinality(String),
    kpi_version UInt16,
    seller_talk_s Float64,
    customer_talk_s Float64,
    talk_ratio Nullable(Float64),
    seller_wpm Nullable(Float64),
    customer_wpm Nullable(Float64),
    switches UInt32,
    switches_per_hour Nullable(Float64),
    avg_pause_s Nullable(Float64),
    longest_customer_monologue_s Float64,
    longest_seller_monologue_s Float64,
    interruptions UInt32,
    seller_questions UInt32,
    seller_turns UInt32,
    customer_turns UInt32,
    backchannels UInt32,
    customer_sentiment LowCardinality(String),
    customer_sentiment_score Nullable(Float64),
    positive_share Float64,
    neutral_share Float64,
    negative_share Float64,
    mentions UInt32,
    action_items UInt32,
    questions UInt32,
    transcript String CODEC(ZSTD(3)),
    signals String CODEC(ZSTD(3)),
    version UInt64,
    is_deleted UInt8,
    processed_at DateTime64(3, 'UTC'),
    INDEX idx_call_id call_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(started_at)
ORDER BY (seller_id, started_at, call_id);

CREATE TABLE IF NOT EXISTS mentions
(
    call_id String,
    version UInt64,
    seller_id LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    term LowCardinality(String),
    kind LowCardinality(String),
    role LowCardinality(String),
    speaker String,
    start_s Float64,
    end_s Float64,
    matched String,
    context String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (seller_id, kind, term, started_at, call_id);

CREATE TABLE IF NOT EXISTS utterances
(
    call_id String,
    version UInt64,
    seller_id LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    turn UInt32,
    role LowCardinality(String),
    start_s Float64,
    end_s Float64,
    text String,
    sentiment LowCardinality(String),
    sentiment_score Float64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (seller_id, started_at, call_id, turn);

CREATE TABLE IF NOT EXISTS action_items
(
    call_id String,
    version UInt64,
    seller_id LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    owner LowCardinality(String),
    speaker String,
    start_s Float64,
    end_s Float64,
    text String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (seller_id, started_at, call_id);

CREATE TABLE IF NOT EXISTS customer_keywords
(
    call_id String,
    version UInt64,
    seller_id LowCardinality(String),
    started_at DateTime64(3, 'UTC'),
    phrase String,
    count UInt32
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (seller_id, started_at, phrase);

CREATE TABLE IF NOT EXISTS comments
(
    comment_id String,
    call_id String,
    author LowCardinality(String),
    author_role LowCardinality(String),
    at_s Nullable(Float64),
    text String,
    parent_id Nullable(String),
    created_at DateTime64(3, 'UTC'),
    version UInt64,
    is_deleted UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (call_id, comment_id);

CREATE TABLE IF NOT EXISTS seller_daily
(
    seller_id LowCardinality(String),
    day Date,
    team LowCardinality(String),
    calls UInt64,
    duration_s Float64,
    talk_ratio_sum Float64,
    talk_ratio_n UInt64,
    seller_wpm_sum Float64,
    seller_wpm_n UInt64,
    switches UInt64,
    pause_sum Float64,
    pause_n UInt64,
    longest_customer_monologue_sum Float64,
    interruptions UInt64,
    seller_questions UInt64,
    positive UInt64,
    neutral UInt64,
    negative UInt64,
    won UInt64,
    lost UInt64,
    version UInt64,
    is_deleted UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(day)
ORDER BY (seller_id, day);

-- Document frequency of customer phrases per day: in how many calls of the day
-- the customer used the phrase. Recomputed by the writer for the days a batch
-- touches (like seller_daily), so ranking a seller's keywords by TF-IDF over a
-- range never scans every call's keywords.
CREATE TABLE IF NOT EXISTS keyword_daily
(
    day Date,
    phrase String,
    calls UInt64,
    version UInt64,
    is_deleted UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(day)
ORDER BY (day, phrase);

CREATE VIEW IF NOT EXISTS v_calls AS
SELECT * EXCEPT (is_deleted, transcript, signals) FROM calls FINAL;

CREATE VIEW IF NOT EXISTS v_seller_daily AS
SELECT * EXCEPT (is_deleted) FROM seller_daily FINAL;

CREATE VIEW IF NOT EXISTS v_mentions AS
SELECT * FROM mentions WHERE (call_id, version) IN (SELECT call_id, version FROM calls FINAL);

CREATE VIEW IF NOT EXISTS v_utterances AS
SELECT * FROM utterances WHERE (call_id, version) IN (SELECT call_id, version FROM calls FINAL);

CREATE VIEW IF NOT EXISTS v_action_items AS
SELECT * FROM action_items WHERE (call_id, version) IN (SELECT call_id, version FROM calls FINAL);

CREATE VIEW IF NOT EXISTS v_customer_keywords AS
SELECT * FROM customer_keywords WHERE (call_id, version) IN (SELECT call_id, version FROM calls FINAL);

CREATE VIEW IF NOT EXISTS v_comments AS
SELECT * EXCEPT (is_deleted) FROM comments FINAL;
