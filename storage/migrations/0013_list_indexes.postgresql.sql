-- Title search: a trigram index (pg_trgm) serves LOWER(title) LIKE '%text%'. pg_trgm ships with
-- PostgreSQL (in Debian's postgresql-NN package) and is a trusted extension, so the database's
-- owner may create it; where it cannot be created, the search stays correct and scans instead.
DO 'BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX requests_title_trigrams ON requests USING gin (LOWER(title) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE ''no trigram index for the title search (%): it scans'', SQLERRM;
END'
