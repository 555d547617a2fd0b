-- The notification outbox. A row is written in the same transaction as the change it reports
-- (so a crash can neither lose it nor report a change that was rolled back), and the notifier
-- marks it sent, in a transaction of its own, after the delivery succeeded. ``delivered`` lists
-- the fingerprints of the targets that already have it, so a retry skips them.
CREATE TABLE notifications (
    id {id},
    request_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    title TEXT NOT NULL,
    year INTEGER,
    season INTEGER,
    episode INTEGER,
    detail TEXT,
    requested_by TEXT,
    jellyfin_id TEXT,
    dedupe_key TEXT UNIQUE,
    created_at {real} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {real},
    delivered TEXT NOT NULL DEFAULT '',
    last_error TEXT,
    sent_at {real},
    given_up_at {real}
);
CREATE INDEX notifications_pending ON notifications (id) WHERE sent_at IS NULL AND given_up_at IS NULL
