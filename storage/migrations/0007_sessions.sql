-- Dashboard sign-ins. Only a hash of each session id is kept, with the fingerprint of the API
-- token it was granted under, so a leaked table grants nothing and a new token ends them all.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    token_fingerprint TEXT NOT NULL,
    created_at {real} NOT NULL,
    expires_at {real} NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at)
