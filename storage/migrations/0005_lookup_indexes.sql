-- Correlation looks requests up by the *arr ids and IMDb id; the poller needs episode counts
-- without decoding every download's links.
CREATE INDEX requests_radarr ON requests (radarr_id);
CREATE INDEX requests_sonarr ON requests (sonarr_id);
CREATE INDEX requests_imdb ON requests (imdb_id);
ALTER TABLE downloads ADD COLUMN episode_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX downloads_state ON downloads (state);
CREATE INDEX mail_received ON mail (received_at);
