-- What kind of release a download is (movie, single_episode, season_pack, batch...).
ALTER TABLE downloads ADD COLUMN release_type TEXT;
