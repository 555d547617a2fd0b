-- The request list at 100,000 requests (issue 12): each filter and order of GET /api/requests
-- walks an index newest first (created in this version's SQLite and PostgreSQL parts), so a deep
-- page skips index entries, never rows. They replace the one-column indexes they start with.
DROP INDEX requests_created;
DROP INDEX requests_state
