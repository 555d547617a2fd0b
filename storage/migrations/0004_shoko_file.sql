-- The Shoko file an anime movie or episode was matched to (Shokofin names items by it).
ALTER TABLE requests ADD COLUMN shoko_file_id BIGINT;
ALTER TABLE episodes ADD COLUMN shoko_file_id BIGINT;
CREATE INDEX requests_shoko_file ON requests (shoko_file_id);
CREATE INDEX episodes_shoko_file ON episodes (shoko_file_id);
