-- The request list at 100,000 requests (issue 12). Each filter and order of GET /api/requests walks
-- an index that holds every column it filters on, newest first: a deep page skips index entries,
-- never rows, and a count never reads the table. They replace the one-column indexes they start with.
CREATE INDEX requests_newest ON requests (created_at, id, state, media_type, title);
CREATE INDEX requests_state_newest ON requests (state, created_at, id, media_type, title);
CREATE INDEX requests_type_newest ON requests (media_type, created_at, id, state, title);
DROP INDEX requests_created;
DROP INDEX requests_state
