-- Named collections of shared calls and clips ("Great discovery questions"):
-- a share may name the collection it belongs to; '' is none. See
-- schemas/clickhouse/009_collections.sql.
ALTER TABLE shares ADD COLUMN collection TEXT NOT NULL DEFAULT '';
