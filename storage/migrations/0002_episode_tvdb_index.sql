-- Jellyfin names an episode by its own TVDB id: find its request without a scan.
CREATE INDEX episodes_tvdb ON episodes (tvdb_id);
