-- Hosts that started or finished enrollment. A host's AK is trusted only once
-- `activated_at` is set: the credential challenge proved the AK lives beside the EK.
CREATE TABLE hosts (
    host_id        TEXT PRIMARY KEY,
    hostname       TEXT NOT NULL,
    hardware_uuid  TEXT NOT NULL,
    ek_public      BLOB NOT NULL,
    ek_certificate BLOB,
    ak_public      BLOB NOT NULL,
    ak_name        BLOB NOT NULL,
    ak_qualified_name BLOB NOT NULL,
    enrolled_at    INTEGER NOT NULL,
    activated_at   INTEGER,
    flavor_group   TEXT NOT NULL DEFAULT 'automatic',
    reset_count    INTEGER,
    restart_count  INTEGER,
    clock          INTEGER,
    last_evidence  TEXT
);
CREATE INDEX hosts_ek ON hosts(ek_public);

-- Outstanding credential challenges; the secret is stored hashed.
CREATE TABLE enrollments (
    enrollment_id TEXT PRIMARY KEY,
    host_id       TEXT NOT NULL REFERENCES hosts(host_id) ON DELETE CASCADE,
    secret_sha256 BLOB NOT NULL,
    expires_at    INTEGER NOT NULL
);

CREATE TABLE reports (
    report_id TEXT PRIMARY KEY,
    host_id   TEXT NOT NULL REFERENCES hosts(host_id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL,
    trusted   INTEGER NOT NULL,
    report    TEXT NOT NULL,
    jws       TEXT NOT NULL
);
CREATE INDEX reports_host_time ON reports(host_id, created);

CREATE TABLE flavors (
    flavor_id TEXT PRIMARY KEY,
    part      TEXT NOT NULL,
    label     TEXT NOT NULL,
    created   INTEGER NOT NULL,
    flavor    TEXT NOT NULL
);

CREATE TABLE flavor_groups (
    name  TEXT PRIMARY KEY,
    group_json TEXT NOT NULL
);

CREATE TABLE flavor_group_members (
    group_name TEXT NOT NULL REFERENCES flavor_groups(name) ON DELETE CASCADE,
    flavor_id  TEXT NOT NULL REFERENCES flavors(flavor_id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, flavor_id)
);
