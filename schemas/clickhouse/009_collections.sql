-- Named collections of shared calls and clips ("Great discovery questions"):
-- a share may name the collection it belongs to; '' is none. A manager's call
-- library is the shares of their teams' calls, grouped by collection.
ALTER TABLE shares ADD COLUMN IF NOT EXISTS collection String DEFAULT '';

-- The view's columns are fixed when it is created: recreate it with the new one.
CREATE OR REPLACE VIEW v_shares AS
SELECT * EXCEPT (is_deleted) FROM shares FINAL;
