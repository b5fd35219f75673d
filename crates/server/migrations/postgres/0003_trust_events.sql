-- The PostgreSQL twin of migrations/sqlite/0003_trust_events.sql. Identity values are
-- handed out at INSERT, not at COMMIT, so readers may see seq 7 before seq 6 commits:
-- the event tailer waits a while for such gaps (server/src/events/tail.rs).
CREATE TABLE trust_events (
    seq     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created BIGINT NOT NULL,
    host_id TEXT NOT NULL,
    event   TEXT NOT NULL
);
CREATE INDEX trust_events_created ON trust_events(created);
