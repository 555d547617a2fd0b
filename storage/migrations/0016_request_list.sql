-- The request list at 100,000 requests (issue 12): each filter and order of GET /api/requests
-- walks an index newest first (created in this version's SQLite and PostgreSQL parts), so a deep
-- page skips index entries, never rows. They replace the one-column indexes they start with.
DROP INDEX requests_created;
DROP INDEX requests_state;
-- How many requests there are of each state and media type, kept exact by triggers in the same
-- transaction as every change: the list's total without a title search is a sum of a few rows,
-- not a count of up to every request.
CREATE TABLE request_counts (
    state TEXT NOT NULL,
    media_type TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, media_type)
);
INSERT INTO request_counts (state, media_type, n)
SELECT state, media_type, COUNT(*) FROM requests GROUP BY state, media_type
