-- Enrollment apart from hosts (security review of f01a2b5). A pending enrollment holds
-- the AK it was challenged for; the host row (and so the AK quotes are checked with)
-- changes only in the transaction that consumes a correct answer to that challenge.
-- Outstanding challenges are dropped: their agents enroll again.
DROP TABLE enrollments;
CREATE TABLE enrollments (
    enrollment_id  TEXT PRIMARY KEY,
    host_id        TEXT NOT NULL,
    hostname       TEXT NOT NULL,
    hardware_uuid  TEXT NOT NULL,
    ek_public      BLOB NOT NULL,
    ek_certificate BLOB,
    ak_public      BLOB NOT NULL,
    ak_name        BLOB NOT NULL,
    ak_qualified_name BLOB NOT NULL,
    secret_sha256  BLOB NOT NULL,
    source         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
);
CREATE INDEX enrollments_expiry ON enrollments(expires_at);
CREATE INDEX enrollments_ek ON enrollments(ek_public);

-- Hosts that never answered a challenge stay as they are (not activated): their agent's
-- next enrollment, found by EK, activates them.
-- The serial of the one client certificate that speaks for the host: certificates
-- issued to an earlier enrollment, or renewed since, are refused.
ALTER TABLE hosts ADD COLUMN cert_serial TEXT;
-- A node cannot take another host's name: names are unique (duplicates from before
-- are renamed with their host id).
UPDATE hosts SET hostname = hostname || '-' || substr(host_id, 1, 8)
    WHERE host_id NOT IN (SELECT MIN(host_id) FROM hosts GROUP BY hostname);
CREATE UNIQUE INDEX hosts_hostname ON hosts(hostname);
