-- People, API tokens and organisations (crates/server/src/identity; docs/identity.md).

-- Organisations: every credential but the bootstrap one belongs to exactly one.
-- `default` holds what existed before organisations did, and what enrolls unclaimed.
CREATE TABLE organisations (
    id      TEXT PRIMARY KEY,
    created INTEGER NOT NULL
);
INSERT INTO organisations (id, created) VALUES ('default', 0);

-- API tokens for automation. The secret is 32 random bytes, so its SHA-256 is as hard to
-- invert as the secret is to guess: no slow hash is needed (unlike a password).
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    secret_sha256 BLOB NOT NULL,
    name          TEXT NOT NULL,
    org           TEXT NOT NULL REFERENCES organisations(id),
    role          TEXT NOT NULL,
    created       INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    expires       INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org);

-- People who sign in with OpenID Connect, by their verified e-mail address.
CREATE TABLE people (
    email    TEXT NOT NULL,
    org      TEXT NOT NULL REFERENCES organisations(id),
    role     TEXT NOT NULL,
    added    INTEGER NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (email, org)
);

-- Which organisation owns an object (kind: host, key, cluster, flavor, group, sink,
-- alert). An object without a row belongs to `default`.
CREATE TABLE owners (
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    org  TEXT NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (kind, id)
);
CREATE INDEX owners_org ON owners(org, kind);
