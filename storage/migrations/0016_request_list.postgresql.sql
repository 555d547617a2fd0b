-- Each index holds every column the list filters on but the title, which the trigram index serves
-- (with the title in them, the planner would rather scan them for a search).
CREATE INDEX requests_newest ON requests (created_at, id, state, media_type);
CREATE INDEX requests_state_newest ON requests (state, created_at, id, media_type);
CREATE INDEX requests_type_newest ON requests (media_type, created_at, id, state);
CREATE FUNCTION request_counts_follow() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN
    IF TG_OP = ''UPDATE'' AND OLD.state = NEW.state AND OLD.media_type = NEW.media_type THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN (''UPDATE'', ''DELETE'') THEN
        UPDATE request_counts SET n = n - 1
        WHERE state = OLD.state AND media_type = OLD.media_type;
    END IF;
    IF TG_OP IN (''INSERT'', ''UPDATE'') THEN
        INSERT INTO request_counts (state, media_type, n) VALUES (NEW.state, NEW.media_type, 1)
        ON CONFLICT (state, media_type) DO UPDATE SET n = request_counts.n + 1;
    END IF;
    RETURN NULL;
END';
CREATE TRIGGER request_counts_follow AFTER INSERT OR DELETE OR UPDATE OF state, media_type
ON requests FOR EACH ROW EXECUTE FUNCTION request_counts_follow();
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
