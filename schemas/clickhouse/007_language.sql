-- The language spoken in each call (an ISO 639-1 code such as en or fi; empty
-- when nobody said and English was assumed), and how sure language detection
-- was (NULL when the language was given by the event or the transcript).
-- Calls in a language the sentiment model does not read have
-- sentiment_model = 'none' and no customer sentiment.
ALTER TABLE calls ADD COLUMN IF NOT EXISTS language LowCardinality(String) DEFAULT '';
ALTER TABLE calls ADD COLUMN IF NOT EXISTS language_probability Nullable(Float64);

-- The view's columns are fixed when it is created: recreate it with the new ones.
CREATE OR REPLACE VIEW v_calls AS
SELECT * EXCEPT (is_deleted, transcript, signals) FROM calls FINAL;
