-- Issue 9, "what it shows must be true": who asked and when, which seasons are known whole, a
-- pending "check again now"; a download's speed, time left, swarm and release facts; the role of
-- a dashboard session (a view-token session can only read).
ALTER TABLE requests ADD COLUMN requested_by TEXT;
ALTER TABLE requests ADD COLUMN requested_at {real};
ALTER TABLE requests ADD COLUMN known_seasons TEXT NOT NULL DEFAULT '[]';
ALTER TABLE requests ADD COLUMN check_requested_at {real};
ALTER TABLE downloads ADD COLUMN speed BIGINT;
ALTER TABLE downloads ADD COLUMN eta_s BIGINT;
ALTER TABLE downloads ADD COLUMN size_left BIGINT;
ALTER TABLE downloads ADD COLUMN seeds INTEGER;
ALTER TABLE downloads ADD COLUMN peers INTEGER;
ALTER TABLE downloads ADD COLUMN stalled_since {real};
ALTER TABLE downloads ADD COLUMN release TEXT;
ALTER TABLE sessions ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
