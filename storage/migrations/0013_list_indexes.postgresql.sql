-- Each index holds every column the list filters on but the title, which the trigram index serves
-- (with the title in them, the planner would rather scan them for a search).
CREATE INDEX requests_newest ON requests (created_at, id, state, media_type);
CREATE INDEX requests_state_newest ON requests (state, created_at, id, media_type);
CREATE INDEX requests_type_newest ON requests (media_type, created_at, id, state);
-- Title search: a trigram index (pg_trgm) serves LOWER(title) LIKE '%text%'. pg_trgm ships with
-- PostgreSQL (in Debian's postgresql-NN package) and is a trusted extension, so the database's
-- owner may create it; where it cannot be created, the search stays correct and scans instead.
DO 'BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX requests_title_trigrams ON requests USING gin (LOWER(title) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE ''no trigram index for the title search (%): it scans'', SQLERRM;
END';
-- Statistics of the new expression now, not whenever autovacuum comes by.
ANALYZE requests
