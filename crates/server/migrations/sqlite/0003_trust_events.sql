-- Trust changes as rows: written in the transaction that changes a host's trust state,
-- read in `seq` order by every replica, which hands them to its own event subscribers.
-- This is how a subscriber of one replica hears of a change made by another, and how a
-- subscriber that reconnects resumes where it stopped (Last-Event-ID).
CREATE TABLE trust_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    created INTEGER NOT NULL,
    host_id TEXT NOT NULL,
    event   TEXT NOT NULL
);
CREATE INDEX trust_events_created ON trust_events(created);
