-- The audit trail: who opened which call, played which recording, erased
-- what, and when. Ids and times only, never content. Written by the API,
-- read by admins (GET /api/admin/audit), kept `retention.audit_days`:
-- `callscope retention` deletes older rows and sets the table's TTL to the
-- same period (so parts past it are dropped by merges between runs).
-- See docs/storage.md and docs/privacy.md.
CREATE TABLE IF NOT EXISTS audit_log
(
    at DateTime64(3, 'UTC'),
    user_id String,
    user_role LowCardinality(String),
    action LowCardinality(String),
    call_id String,
    seller_id String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (at, user_id, call_id);
