-- The audit trail's transparency log (crates/server/src/audit; docs/audit.md). Every row is
-- written once, by the one append function, inside the write transaction of what it
-- records; nothing updates or deletes them (a change is what the log's proofs expose).

-- One entry per recorded action: digests and identifiers, never secrets. `body` is the
-- canonical JSON of the action's details; `leaf_hash` is SHA-256(0x00 || the entry's
-- canonical bytes), which docs/audit.md specifies.
CREATE TABLE audit_entries (
    idx       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    subject   TEXT NOT NULL,
    body      TEXT NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE INDEX audit_entries_at ON audit_entries(at);

-- The hashes of the tree's perfect subtrees (2^level leaves from leaf idx << level), the
-- only tree nodes kept: they never change once complete.
CREATE TABLE audit_subtrees (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
);

-- The latest signed checkpoint (one row); replicas only ever replace it with a larger one.
CREATE TABLE audit_checkpoint (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    size      INTEGER NOT NULL,
    root      BLOB NOT NULL,
    note      TEXT NOT NULL,
    signed_at INTEGER NOT NULL
);
