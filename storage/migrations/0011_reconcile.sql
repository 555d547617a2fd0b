-- The reconciler (issue 10). Each table has one writer: the reconciler.
-- A delivery's event identity (service, event kind, download, episode/movie ids), kept longer
-- than the one-hour body window, so a webhook and the history record of the same event are one.
CREATE TABLE event_keys (
    key TEXT PRIMARY KEY,
    mail_id BIGINT,
    at {real} NOT NULL
);
CREATE INDEX event_keys_at ON event_keys (at);
-- What Sonarr's/Radarr's queue last said of each download: its state, the reason in the *arr's
-- own words, when it last made progress, and what recovery did about it.
CREATE TABLE arr_downloads (
    service TEXT NOT NULL,
    download_id TEXT NOT NULL,
    title TEXT,
    queue_ids TEXT NOT NULL DEFAULT '[]',
    item_ids TEXT NOT NULL DEFAULT '[]',
    tracked_state TEXT,
    reason TEXT,
    size_left {real},
    stalled INTEGER NOT NULL DEFAULT 0,
    progress_at {real} NOT NULL,
    seen_at {real} NOT NULL,
    action TEXT,
    acted_at {real},
    PRIMARY KEY (service, download_id)
);
-- Library refreshes asked of Jellyfin for an item stuck waiting on the library, one per stay.
CREATE TABLE library_nudges (
    request_id BIGINT NOT NULL,
    since {real} NOT NULL,
    at {real} NOT NULL,
    detail TEXT,
    PRIMARY KEY (request_id, since)
)
