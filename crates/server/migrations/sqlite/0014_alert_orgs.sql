-- Alerts by organisation (crates/server/src/alerts; docs/alerts.md): each alert belongs to
-- the organisation that owned its subject when it was raised (a host's owner, a cluster's
-- owner); it is listed, read, acknowledged and resolved only there, and its notices go
-- only to that organisation's sinks (owners kind `sink`). Existing alerts take their
-- subject's owner now, and `default` when it has none.
ALTER TABLE alerts ADD COLUMN org TEXT NOT NULL DEFAULT 'default';

UPDATE alerts SET org = (
    SELECT o.org FROM owners o
    WHERE o.kind = 'host' AND alerts.subject = 'host/' || o.id
) WHERE EXISTS (
    SELECT 1 FROM owners o WHERE o.kind = 'host' AND alerts.subject = 'host/' || o.id
);

UPDATE alerts SET org = (
    SELECT o.org FROM hub_clusters c JOIN owners o ON o.kind = 'cluster' AND o.id = c.cluster_id
    WHERE alerts.subject = 'cluster/' || c.name
       OR substr(alerts.subject, 1, length(c.name) + 9) = 'cluster/' || c.name || '/'
) WHERE EXISTS (
    SELECT 1 FROM hub_clusters c JOIN owners o ON o.kind = 'cluster' AND o.id = c.cluster_id
    WHERE alerts.subject = 'cluster/' || c.name
       OR substr(alerts.subject, 1, length(c.name) + 9) = 'cluster/' || c.name || '/'
);

-- `GET /v1/alerts` of one organisation: its alerts, most recently seen first.
CREATE INDEX alerts_org_seen ON alerts(org, last_seen, alert_id);
