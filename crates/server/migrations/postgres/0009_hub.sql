-- The PostgreSQL twin of migrations/sqlite/0009_hub.sql.
-- The policy hub (crates/server/src/hub; docs/hub.md). A registered cluster, the serial of
-- the one client certificate that speaks for it (removing the row revokes it), and what it
-- last reported; `outage` is set once while its reports are overdue or its webhook is down
-- (a compare-and-set, so one replica raises the outage alert).
CREATE TABLE hub_clusters (
    cluster_id      TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    cert_serial     TEXT NOT NULL,
    cert_not_after  BIGINT NOT NULL,
    registered_at   BIGINT NOT NULL,
    policy_version  BIGINT,
    last_report_at  BIGINT,
    webhook_serving BIGINT,
    outage          BIGINT NOT NULL DEFAULT 0
);

-- Every version of the policy set, never changed once written. `policies` is the JSON
-- list of its policies' ids, severities and descriptions (so reports need no re-parse).
CREATE TABLE hub_policy_versions (
    version    BIGINT PRIMARY KEY,
    document   TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    comment    TEXT,
    policies   TEXT NOT NULL
);

-- Each cluster's latest status per policy.
CREATE TABLE hub_compliance (
    cluster_id     TEXT NOT NULL REFERENCES hub_clusters(cluster_id) ON DELETE CASCADE,
    policy         TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    status         TEXT NOT NULL,
    violations     BIGINT NOT NULL,
    reported_at    BIGINT NOT NULL,
    PRIMARY KEY (cluster_id, policy)
);

-- One row per change of a (cluster, policy)'s status or violation count; kept when the
-- cluster is removed (it is the audit trail), hence the name copied in.
CREATE TABLE hub_compliance_history (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at             BIGINT NOT NULL,
    cluster_id     TEXT NOT NULL,
    cluster_name   TEXT NOT NULL,
    policy         TEXT NOT NULL,
    policy_version BIGINT NOT NULL,
    status         TEXT NOT NULL,
    violations     BIGINT NOT NULL
);
CREATE INDEX hub_compliance_history_at ON hub_compliance_history(at);
