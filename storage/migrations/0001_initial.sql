-- The first schema. {id} is the auto-increment key type and {real} the float type of the backend.
CREATE TABLE requests (
    id BIGINT PRIMARY KEY,
    media_type TEXT NOT NULL,
    title TEXT NOT NULL,
    year INTEGER,
    tmdb_id BIGINT,
    tvdb_id BIGINT,
    imdb_id TEXT,
    jellyseerr_request_id BIGINT,
    radarr_id BIGINT,
    sonarr_id BIGINT,
    is_anime INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    progress {real} NOT NULL DEFAULT 0,
    poster_url TEXT,
    overview TEXT,
    source TEXT NOT NULL,
    jellyfin_id TEXT,
    requested_seasons TEXT NOT NULL DEFAULT '[]',
    download_hash TEXT,
    final_path TEXT,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL,
    available_at {real},
    last_change_at {real} NOT NULL
);
CREATE INDEX requests_tmdb ON requests (tmdb_id);
CREATE INDEX requests_tvdb ON requests (tvdb_id);
CREATE INDEX requests_hash ON requests (download_hash);
CREATE INDEX requests_state ON requests (state);
CREATE INDEX requests_created ON requests (created_at);

CREATE TABLE episodes (
    request_id BIGINT NOT NULL,
    season INTEGER NOT NULL,
    episode INTEGER NOT NULL,
    title TEXT,
    state TEXT NOT NULL,
    progress {real} NOT NULL DEFAULT 0,
    torrent_hash TEXT,
    final_path TEXT,
    jellyfin_id TEXT,
    sonarr_episode_id BIGINT,
    tvdb_id BIGINT,
    updated_at {real} NOT NULL,
    last_change_at {real} NOT NULL,
    PRIMARY KEY (request_id, season, episode)
);
CREATE INDEX episodes_hash ON episodes (torrent_hash);

CREATE TABLE downloads (
    hash TEXT PRIMARY KEY,
    name TEXT,
    progress {real} NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    client_state TEXT,
    size BIGINT,
    links TEXT NOT NULL DEFAULT '[]',
    files TEXT NOT NULL DEFAULT '[]',
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL,
    last_change_at {real} NOT NULL
);

CREATE TABLE timeline (
    id {id},
    request_id BIGINT NOT NULL,
    at {real} NOT NULL,
    source TEXT NOT NULL,
    event TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    season INTEGER,
    episode INTEGER,
    detail TEXT
);
CREATE INDEX timeline_request ON timeline (request_id, id);

CREATE TABLE mail (
    id {id},
    target TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    received_at {real} NOT NULL,
    applied_at {real},
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX mail_unapplied ON mail (id) WHERE applied_at IS NULL;

CREATE TABLE dead_letters (
    id {id},
    at {real} NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL,
    error TEXT NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
