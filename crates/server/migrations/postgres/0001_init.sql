-- The PostgreSQL twin of migrations/sqlite/0001_init.sql: same tables, columns and
-- meaning, so the store's queries are one text for both backends. Integers are BIGINT
-- because the store reads and writes every integer as i64; bytes are BYTEA. Text that
-- lists are sorted by is COLLATE "C", byte order like SQLite's, whatever the locale.

-- Hosts that started or finished enrollment. A host's AK is trusted only once
-- `activated_at` is set: the credential challenge proved the AK lives beside the EK.
CREATE TABLE hosts (
    host_id        TEXT COLLATE "C" PRIMARY KEY,
    hostname       TEXT COLLATE "C" NOT NULL,
    hardware_uuid  TEXT NOT NULL,
    ek_public      BYTEA NOT NULL,
    ek_certificate BYTEA,
    ak_public      BYTEA NOT NULL,
    ak_name        BYTEA NOT NULL,
    ak_qualified_name BYTEA NOT NULL,
    enrolled_at    BIGINT NOT NULL,
    activated_at   BIGINT,
    flavor_group   TEXT NOT NULL DEFAULT 'automatic',
    reset_count    BIGINT,
    restart_count  BIGINT,
    clock          BIGINT,
    last_evidence  TEXT
);
CREATE INDEX hosts_ek ON hosts(ek_public);

-- Outstanding credential challenges; the secret is stored hashed.
CREATE TABLE enrollments (
    enrollment_id TEXT PRIMARY KEY,
    host_id       TEXT NOT NULL REFERENCES hosts(host_id) ON DELETE CASCADE,
    secret_sha256 BYTEA NOT NULL,
    expires_at    BIGINT NOT NULL
);

-- `rowid` stands in for SQLite's implicit rowid: reports created in the same second are
-- ordered by insertion, and the queries that do so read the same on both backends.
CREATE TABLE reports (
    rowid     BIGINT GENERATED ALWAYS AS IDENTITY,
    report_id TEXT PRIMARY KEY,
    host_id   TEXT NOT NULL REFERENCES hosts(host_id) ON DELETE CASCADE,
    created   BIGINT NOT NULL,
    expires   BIGINT NOT NULL,
    trusted   BIGINT NOT NULL CHECK (trusted IN (0, 1)),
    report    TEXT NOT NULL,
    jws       TEXT NOT NULL
);
CREATE INDEX reports_host_time ON reports(host_id, created);

CREATE TABLE flavors (
    flavor_id TEXT PRIMARY KEY,
    part      TEXT NOT NULL,
    label     TEXT NOT NULL,
    created   BIGINT NOT NULL,
    flavor    TEXT NOT NULL
);

CREATE TABLE flavor_groups (
    name  TEXT COLLATE "C" PRIMARY KEY,
    group_json TEXT NOT NULL
);

CREATE TABLE flavor_group_members (
    group_name TEXT COLLATE "C" NOT NULL REFERENCES flavor_groups(name) ON DELETE CASCADE,
    flavor_id  TEXT NOT NULL REFERENCES flavors(flavor_id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, flavor_id)
);
