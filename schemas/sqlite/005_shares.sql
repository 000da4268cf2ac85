-- Calls and clips a manager shares with sellers (see schemas/clickhouse/006_shares.sql
-- and docs/storage.md): one row per (share, recipient); a recipient is a seller's
-- user id or `team:<team id>` for every seller of that team. Revoking deletes the rows.
CREATE TABLE IF NOT EXISTS shares (
    share_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    call_id TEXT NOT NULL,
    seller_id TEXT NOT NULL,
    start_s REAL,
    end_s REAL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (share_id, recipient)
);
CREATE INDEX IF NOT EXISTS shares_recipient ON shares (recipient, created_at);
CREATE INDEX IF NOT EXISTS shares_call ON shares (call_id);
