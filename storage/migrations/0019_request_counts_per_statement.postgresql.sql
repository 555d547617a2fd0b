-- The per-state counts follow each statement's rows at once, not each row: a wave's requests
-- are saved by one statement (see _run_all in storage/_postgres.py), and a trigger per row cost
-- as much as the rest of their upsert.
DROP TRIGGER IF EXISTS request_counts_follow ON requests;
DROP FUNCTION IF EXISTS request_counts_follow();
CREATE FUNCTION request_counts_moved() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN
    IF TG_OP = ''INSERT'' THEN
        INSERT INTO request_counts AS c (state, media_type, n)
            SELECT state, media_type, COUNT(*) FROM new_rows GROUP BY state, media_type
        ON CONFLICT (state, media_type) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = ''DELETE'' THEN
        UPDATE request_counts AS c SET n = c.n - gone.n
        FROM (SELECT state, media_type, COUNT(*) AS n FROM old_rows GROUP BY state, media_type)
            AS gone
        WHERE c.state = gone.state AND c.media_type = gone.media_type;
    ELSE
        INSERT INTO request_counts AS c (state, media_type, n)
            SELECT state, media_type, SUM(moved) FROM (
                SELECT state, media_type, -1 AS moved FROM old_rows
                UNION ALL SELECT state, media_type, 1 FROM new_rows
            ) AS moves GROUP BY state, media_type HAVING SUM(moved) <> 0
        ON CONFLICT (state, media_type) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END';
CREATE TRIGGER request_counts_inserted AFTER INSERT ON requests
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_counts_moved();
CREATE TRIGGER request_counts_updated AFTER UPDATE ON requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_counts_moved();
CREATE TRIGGER request_counts_deleted AFTER DELETE ON requests
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_counts_moved()
