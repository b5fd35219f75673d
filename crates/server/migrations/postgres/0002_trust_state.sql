-- The PostgreSQL twin of migrations/sqlite/0002_trust_state.sql.
ALTER TABLE hosts ADD COLUMN trust_state TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE hosts ADD COLUMN trust_deadline BIGINT;
ALTER TABLE hosts ADD COLUMN last_report_id TEXT;
CREATE INDEX hosts_deadline ON hosts(trust_state, trust_deadline);

CREATE TABLE service_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE INDEX reports_created ON reports(created);
