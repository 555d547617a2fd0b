-- Downloads recovery removed and blocklisted in Sonarr or Radarr (issue 10), followed until the
-- *arr grabs a replacement for their items or, when none follows, until one search was asked
-- for. Settled rows are kept for ST_STALLED_AFTER_S: at most one search per item per period,
-- across restarts. One writer: the reconciler.
CREATE TABLE replacement_waits (
    service TEXT NOT NULL,
    download_id TEXT NOT NULL,
    title TEXT,
    item_ids TEXT NOT NULL DEFAULT '[]',
    removed_at {real} NOT NULL,
    grabbed_ids TEXT NOT NULL DEFAULT '[]',
    searched_ids TEXT NOT NULL DEFAULT '[]',
    outcome TEXT,
    settled_at {real},
    PRIMARY KEY (service, download_id)
)
