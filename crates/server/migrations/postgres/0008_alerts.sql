-- The PostgreSQL twin of migrations/sqlite/0008_alerts.sql.
-- Alerts (crates/alerts; crates/server/src/alerts): one row per deduplicated alert, keyed
-- by (source, subject, kind); `revision` makes every change a compare-and-set, so two
-- replicas raising the same alert at once both count. Acknowledgement and resolution
-- columns are NULL when they do not apply; a resolution with no `resolved_by` was made
-- by the service itself (the cause went away).
CREATE TABLE alerts (
    alert_id        TEXT PRIMARY KEY,
    source          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    title           TEXT NOT NULL,
    details         TEXT NOT NULL,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    count           BIGINT NOT NULL,
    state           TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at BIGINT,
    resolved_by     TEXT,
    resolved_at     BIGINT,
    remediation     TEXT NOT NULL,
    revision        BIGINT NOT NULL,
    UNIQUE (source, subject, kind)
);
CREATE INDEX alerts_last_seen ON alerts(last_seen);

-- Where alerts go. `spec` is the sink's JSON without its secret; the webhook's HMAC
-- secret is sealed with the broker's master key and never read back out through the API.
CREATE TABLE alert_sinks (
    name          TEXT PRIMARY KEY,
    spec          TEXT NOT NULL,
    sealed_secret BYTEA,
    updated       BIGINT NOT NULL
);

-- The delivery outbox: one row per notice per sink, written in the transaction that
-- changed the alert, so a restart or a sink outage loses nothing. A replica claims a row
-- by moving `lease_until_ms`; `delivered` marks it sent. `delivery_id` goes to the
-- receiver, which drops one it has seen (delivery is at least once).
-- `next_attempt_ms` and `last_error` tell operators when and why; the worker's backoff
-- per sink decides the retries, and each sink's notices go out in `seq` order.
CREATE TABLE alert_outbox (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id    TEXT NOT NULL UNIQUE,
    sink           TEXT NOT NULL REFERENCES alert_sinks(name) ON DELETE CASCADE,
    alert_id       TEXT NOT NULL,
    notice         TEXT NOT NULL,
    created        BIGINT NOT NULL,
    attempts       BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    lease_until_ms BIGINT NOT NULL,
    delivered      BIGINT,
    last_error     TEXT
);
CREATE INDEX alert_outbox_pending ON alert_outbox(sink, delivered, seq);
