-- The language spoken in each call (an ISO 639-1 code such as en or fi; empty
-- when nobody said and English was assumed), and how sure language detection
-- was (NULL when the language was given). See schemas/clickhouse/007_language.sql.
ALTER TABLE calls ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE calls ADD COLUMN language_probability REAL;
