-- How each call's words were attributed to speakers and roles, and how sure
-- that is (mono calls are diarized by voice). Dashboards and BI queries should
-- leave out calls with attribution_low_confidence = 1 from KPI comparisons.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS attribution_method LowCardinality(String) DEFAULT '';
ALTER TABLE calls ADD COLUMN IF NOT EXISTS attribution_confidence Nullable(Float64);
ALTER TABLE calls ADD COLUMN IF NOT EXISTS attribution_low_confidence UInt8 DEFAULT 0;

-- The view's columns are fixed when it is created: recreate it with the new ones.
CREATE OR REPLACE VIEW v_calls AS
SELECT * EXCEPT (is_deleted, transcript, signals) FROM calls FINAL;
