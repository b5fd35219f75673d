-- Trust state kept on the host row, so that every replica sees one state and a missed
-- deadline flips it exactly once (UPDATE ... WHERE trust_state = 'trusted' RETURNING).
ALTER TABLE hosts ADD COLUMN trust_state TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE hosts ADD COLUMN trust_deadline INTEGER;
ALTER TABLE hosts ADD COLUMN last_report_id TEXT;
CREATE INDEX hosts_deadline ON hosts(trust_state, trust_deadline);

-- Secrets every replica must share (the challenge-nonce MAC key).
CREATE TABLE service_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE INDEX reports_created ON reports(created);
