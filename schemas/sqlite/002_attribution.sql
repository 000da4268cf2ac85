-- How each call's words were attributed to speakers and roles, and how sure
-- that is (see schemas/clickhouse/002_attribution.sql).
ALTER TABLE calls ADD COLUMN attribution_method TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN attribution_confidence REAL;
ALTER TABLE calls ADD COLUMN attribution_low_confidence INTEGER NOT NULL DEFAULT 0;
