-- The PostgreSQL twin of migrations/sqlite/0012_audit_log.sql: the audit trail's
-- transparency log (crates/server/src/audit; docs/audit.md). Rows are written once, by the
-- one append function under a transaction-scoped advisory lock, and never changed.

CREATE TABLE audit_entries (
    idx       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    subject   TEXT NOT NULL,
    body      TEXT NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE INDEX audit_entries_at ON audit_entries(at);

CREATE TABLE audit_subtrees (
    level BIGINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE audit_checkpoint (
    id        BIGINT PRIMARY KEY CHECK (id = 1),
    size      BIGINT NOT NULL,
    root      BYTEA NOT NULL,
    note      TEXT NOT NULL,
    signed_at BIGINT NOT NULL
);
