-- Request ids come from the database, not from a counter in one process's memory: two processes,
-- or a restart, can never hand out the same id. Upgraded databases continue after their highest.
CREATE TABLE request_ids (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_id BIGINT NOT NULL
);
INSERT INTO request_ids (one, last_id) SELECT 1, COALESCE(MAX(id), 0) FROM requests
