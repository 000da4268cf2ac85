-- seller_daily leaves calls with low-confidence speaker attribution
-- (calls.attribution_low_confidence = 1: mono calls whose speakers are in doubt)
-- out of its KPI sums and counts and its sentiment counts, and counts them in
-- low_confidence_calls. calls, duration_s, won and lost still count every call,
-- so per-call means divide by (calls - low_confidence_calls).
-- After this migration `callscope migrate` recomputes every seller_daily row
-- from calls under the new rule (the same query the writer runs per batch).
ALTER TABLE seller_daily ADD COLUMN IF NOT EXISTS low_confidence_calls UInt64 DEFAULT 0 AFTER calls;

-- The view's columns are fixed when it is created: recreate it with the new one.
CREATE OR REPLACE VIEW v_seller_daily AS
SELECT * EXCEPT (is_deleted) FROM seller_daily FINAL;
