-- Asset tags and the key broker.
-- The host's current tag (digest and tags) is kept on its row too, so that the
-- attestation path reads it with the host and needs no further query.
ALTER TABLE hosts ADD COLUMN tag_digest TEXT;
ALTER TABLE hosts ADD COLUMN tag_json TEXT;

-- Every tag certificate issued; a host has at most one that is not revoked.
CREATE TABLE asset_tags (
    serial      TEXT PRIMARY KEY,
    host_id     TEXT NOT NULL REFERENCES hosts(host_id) ON DELETE CASCADE,
    certificate TEXT NOT NULL,
    digest      TEXT NOT NULL,
    tags        TEXT NOT NULL,
    issued_at   INTEGER NOT NULL,
    revoked_at  INTEGER,
    flavor_id   TEXT
);
CREATE INDEX asset_tags_host ON asset_tags(host_id);

-- Keys, sealed under the broker's master key (AES-256-GCM, key id as associated data).
CREATE TABLE broker_keys (
    key_id     TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    sealed     BLOB NOT NULL,
    policy     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    imported   INTEGER NOT NULL
);

-- Every release and refusal, with what it rested on.
CREATE TABLE key_releases (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id    TEXT NOT NULL,
    host_id   TEXT,
    hostname  TEXT,
    at        INTEGER NOT NULL,
    released  INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    report_id TEXT,
    evidence  TEXT NOT NULL
);
CREATE INDEX key_releases_key ON key_releases(key_id, seq);
