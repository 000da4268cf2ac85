-- callscope embedded (SQLite) schema, migration 001. The same columns as the
-- ClickHouse schema (schemas/clickhouse/001_init.sql), so tools see one model.
-- Times: started_at / processed_at / created_at are Unix milliseconds (UTC);
-- `day` is the UTC date of started_at (YYYY-MM-DD). A reprocessed call replaces
-- its row and its child rows in one transaction, so no version filtering is
-- needed here; daily aggregates are computed on read (indexed), not stored.

CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL,
    team TEXT NOT NULL,
    customer TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    day TEXT NOT NULL,
    duration_s REAL NOT NULL,
    direction TEXT NOT NULL,
    outcome TEXT NOT NULL,
    audio_uri TEXT NOT NULL,
    pipeline_version TEXT NOT NULL,
    asr_model TEXT NOT NULL,
    sentiment_model TEXT NOT NULL,
    kpi_version INTEGER NOT NULL,
    seller_talk_s REAL NOT NULL,
    customer_talk_s REAL NOT NULL,
    talk_ratio REAL,
    seller_wpm REAL,
    customer_wpm REAL,
    switches INTEGER NOT NULL,
    switches_per_hour REAL,
    avg_pause_s REAL,
    longest_customer_monologue_s REAL NOT NULL,
    longest_seller_monologue_s REAL NOT NULL,
    interruptions INTEGER NOT NULL,
    seller_questions INTEGER NOT NULL,
    seller_turns INTEGER NOT NULL,
    customer_turns INTEGER NOT NULL,
    backchannels INTEGER NOT NULL,
    customer_sentiment TEXT NOT NULL,
    customer_sentiment_score REAL,
    positive_share REAL NOT NULL,
    neutral_share REAL NOT NULL,
    negative_share REAL NOT NULL,
    mentions INTEGER NOT NULL,
    action_items INTEGER NOT NULL,
    questions INTEGER NOT NULL,
    transcript TEXT NOT NULL,
    signals TEXT NOT NULL,
    version INTEGER NOT NULL,
    processed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_seller_started ON calls (seller_id, started_at);
CREATE INDEX IF NOT EXISTS calls_team_day ON calls (team, day);
CREATE INDEX IF NOT EXISTS calls_started ON calls (started_at);

CREATE TABLE IF NOT EXISTS mentions (
    call_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seller_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    term TEXT NOT NULL,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    speaker TEXT NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    matched TEXT NOT NULL,
    context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_call ON mentions (call_id);
CREATE INDEX IF NOT EXISTS mentions_seller ON mentions (seller_id, kind, started_at);

CREATE TABLE IF NOT EXISTS utterances (
    call_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seller_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    turn INTEGER NOT NULL,
    role TEXT NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    text TEXT NOT NULL,
    sentiment TEXT NOT NULL,
    sentiment_score REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS utterances_call ON utterances (call_id, turn);

CREATE TABLE IF NOT EXISTS action_items (
    call_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seller_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    owner TEXT NOT NULL,
    speaker TEXT NOT NULL,
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS action_items_call ON action_items (call_id);

CREATE TABLE IF NOT EXISTS customer_keywords (
    call_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seller_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    phrase TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_keywords_call ON customer_keywords (call_id);
CREATE INDEX IF NOT EXISTS customer_keywords_seller ON customer_keywords (seller_id, started_at);

-- Document frequency of customer phrases per day (calls whose customer said the
-- phrase), kept in step with customer_keywords by the writer: the TF-IDF ranking
-- of a seller's keywords needs df over all calls of the range, and summing these
-- daily counts is far cheaper than scanning every call's keywords.
CREATE TABLE IF NOT EXISTS keyword_daily (
    phrase TEXT NOT NULL,
    day TEXT NOT NULL,
    calls INTEGER NOT NULL,
    PRIMARY KEY (phrase, day)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS comments (
    comment_id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    author TEXT NOT NULL,
    author_role TEXT NOT NULL,
    at_s REAL,
    text TEXT NOT NULL,
    parent_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_call ON comments (call_id, created_at);
