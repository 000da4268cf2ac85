-- Calls and clips a manager shares with sellers: one row per (share, recipient);
-- a recipient is a seller's user id or `team:<team id>` for every seller of that
-- team (as the directory says when the share is opened). A clip has `start_s`
-- and `end_s`; a whole call has NULL in both. Revoking a share writes a
-- tombstone (`is_deleted = 1`) per row; erasing a call deletes its shares.
CREATE TABLE IF NOT EXISTS shares
(
    share_id String,
    recipient LowCardinality(String),
    call_id String,
    seller_id LowCardinality(String),
    start_s Nullable(Float64),
    end_s Nullable(Float64),
    note String,
    created_by LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    version UInt64,
    is_deleted UInt8,
    INDEX call_bf call_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (recipient, share_id);

CREATE VIEW IF NOT EXISTS v_shares AS
SELECT * EXCEPT (is_deleted) FROM shares FINAL;
