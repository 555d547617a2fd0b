-- Links out (issue 9): a series' page in Sonarr's web UI is named by the titleSlug its webhooks send.
ALTER TABLE requests ADD COLUMN sonarr_slug TEXT
