//! The hub's tables (migration `0009_hub.sql`): clusters, each cluster's latest status
//! per policy, and the history of its changes (policy versions: `policy_store.rs`).
//! Every query runs on SQLite and PostgreSQL alike (sqlx `Any`, `$n` placeholders, `i64`
//! integers).

use crate::audit::audited;
use crate::store::{to_i64, to_u64, Store, StoreError};
use ironroot_api::{ComplianceChange, ComplianceReport, ComplianceStatus, PolicyVersion};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A registered cluster as stored.
#[derive(Debug, Clone)]
pub(crate) struct ClusterRow {
    pub id: String,
    pub name: String,
    pub cert_serial: String,
    /// The serial a renewal replaced, accepted until `cert_serial` is first used.
    pub prev_cert_serial: Option<String>,
    pub cert_not_after: u64,
    pub registered_at: u64,
    pub policy_version: Option<u64>,
    pub last_report_at: Option<u64>,
    pub webhook_serving: Option<bool>,
}

/// One policy of a stored version: what reports and the overview need without parsing
/// the document again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyMeta {
    pub id: String,
    pub severity: String,
    pub description: String,
}

/// A stored policy version.
#[derive(Debug, Clone)]
pub(crate) struct VersionRow {
    pub version: PolicyVersion,
    pub policies: Vec<PolicyMeta>,
}

/// One cluster's latest status for one policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatusRow {
    pub cluster_id: String,
    pub policy: String,
    pub policy_version: u64,
    pub status: ComplianceStatus,
    pub violations: u64,
    pub reported_at: u64,
}

/// A (cluster, policy) whose status or count changed with a report.
#[derive(Debug, Clone)]
pub(crate) struct Changed {
    pub policy: String,
    pub status: ComplianceStatus,
}

/// `GET /v1/compliance/history`'s filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct HistoryFilter {
    pub since: u64,
    pub until: u64,
    /// A cluster's id or name.
    pub cluster: Option<String>,
    pub policy: Option<String>,
    /// Only the clusters of this organisation (as `owners` says now; a removed cluster's
    /// row stays there, so its history stays its organisation's).
    pub org: Option<String>,
}

pub(crate) fn parse_status(s: &str) -> Result<ComplianceStatus, StoreError> {
    use ComplianceStatus::*;
    [Compliant, Unknown, Pending, NonCompliant]
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| StoreError::Corrupt(format!("compliance status {s:?}")))
}

const CLUSTER_COLUMNS: &str = "cluster_id, name, cert_serial, prev_cert_serial, cert_not_after, \
    registered_at, policy_version, last_report_at, webhook_serving";

fn cluster_row(r: &sqlx::any::AnyRow) -> Result<ClusterRow, StoreError> {
    let opt = |c: &str| r.try_get::<Option<i64>, _>(c).map(|v| v.map(to_u64));
    Ok(ClusterRow {
        id: r.try_get("cluster_id")?,
        name: r.try_get("name")?,
        cert_serial: r.try_get("cert_serial")?,
        prev_cert_serial: r.try_get("prev_cert_serial")?,
        cert_not_after: to_u64(r.try_get("cert_not_after")?),
        registered_at: to_u64(r.try_get("registered_at")?),
        policy_version: opt("policy_version")?,
        last_report_at: opt("last_report_at")?,
        webhook_serving: opt("webhook_serving")?.map(|v| v != 0),
    })
}

impl Store {
    /// Registers a cluster; `false` when its name is taken.
    pub(crate) async fn insert_cluster(
        &self,
        c: &ClusterRow,
        actor: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO hub_clusters (cluster_id, name, cert_serial, cert_not_after, \
             registered_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.cert_serial)
        .bind(to_i64(c.cert_not_after))
        .bind(to_i64(c.registered_at))
        .execute(&mut *tx)
        .await?;
        let entry = crate::audit::entries::cluster_registered(
            actor,
            &c.id,
            &c.name,
            &c.cert_serial,
            c.registered_at,
        );
        audited(tx, done.rows_affected() == 1, entry).await
    }

    pub(crate) async fn clusters(&self) -> Result<Vec<ClusterRow>, StoreError> {
        let q = format!("SELECT {CLUSTER_COLUMNS} FROM hub_clusters ORDER BY name");
        let rows = sqlx::query(&q).fetch_all(self.pool()).await?;
        rows.iter().map(cluster_row).collect()
    }

    /// The cluster `id` if `serial` is its current certificate's, or the one its last
    /// renewal replaced while the new one has not been used. The first use of a renewed
    /// certificate revokes the one it replaced.
    pub(crate) async fn cluster_by_cert(
        &self,
        id: &str,
        serial: &str,
    ) -> Result<Option<ClusterRow>, StoreError> {
        let q = format!(
            "SELECT {CLUSTER_COLUMNS} FROM hub_clusters WHERE cluster_id = $1 \
             AND (cert_serial = $2 OR prev_cert_serial = $2)"
        );
        let row = sqlx::query(&q)
            .bind(id)
            .bind(serial)
            .fetch_optional(self.pool())
            .await?;
        let Some(mut row) = row.as_ref().map(cluster_row).transpose()? else {
            return Ok(None);
        };
        if row.prev_cert_serial.is_some() && row.cert_serial == serial {
            sqlx::query(
                "UPDATE hub_clusters SET prev_cert_serial = NULL \
                 WHERE cluster_id = $1 AND cert_serial = $2",
            )
            .bind(id)
            .bind(serial)
            .execute(self.pool())
            .await?;
            row.prev_cert_serial = None;
        }
        Ok(Some(row))
    }

    /// Replaces the certificate of cluster `id`, renewed with the one whose serial is
    /// `presented`; `false` when that one is no longer accepted (the cluster was removed,
    /// or another renewal won). Renewing with the current certificate keeps it valid
    /// until the new one is used; renewing again with the replaced one (the new one was
    /// lost) keeps the replaced one valid instead.
    pub(crate) async fn renew_cluster_cert(
        &self,
        id: &str,
        presented: &str,
        serial: &str,
        not_after: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE hub_clusters SET prev_cert_serial = $2, cert_serial = $3, \
             cert_not_after = $4 \
             WHERE cluster_id = $1 AND (cert_serial = $2 OR prev_cert_serial = $2)",
        )
        .bind(id)
        .bind(presented)
        .bind(serial)
        .bind(to_i64(not_after))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a cluster (and so revokes its certificate); `false` when there was none.
    pub(crate) async fn delete_cluster(&self, id: &str, actor: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM hub_clusters WHERE cluster_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let entry = crate::audit::entries::cluster_removed(actor, id, crate::now());
        audited(tx, done.rows_affected() == 1, entry).await
    }

    /// Stores a cluster's report in one transaction: each policy's latest status, a
    /// history row for each (cluster, policy) whose status or count changed, and the
    /// cluster's own last report. Returns what changed.
    pub(crate) async fn record_compliance(
        &self,
        cluster: &super::CallingCluster,
        r: &ComplianceReport,
        now: u64,
    ) -> Result<Vec<Changed>, StoreError> {
        let mut tx = self.begin_write().await?;
        // What the cluster said last, read once (a report holds up to 256 policies).
        let before: std::collections::HashMap<String, (String, i64)> = sqlx::query(
            "SELECT policy, status, violations FROM hub_compliance WHERE cluster_id = $1",
        )
        .bind(&cluster.id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|b| {
            Ok((
                b.try_get("policy")?,
                (b.try_get("status")?, b.try_get("violations")?),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
        let mut changed = Vec::new();
        for p in &r.policies {
            let same = match before.get(&p.policy) {
                Some((status, violations)) => {
                    parse_status(status)? == p.status && to_u64(*violations) == p.violations
                }
                None => false,
            };
            sqlx::query(
                "INSERT INTO hub_compliance (cluster_id, policy, policy_version, status, \
                 violations, reported_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (cluster_id, policy) DO UPDATE SET policy_version = $3, \
                 status = $4, violations = $5, reported_at = $6",
            )
            .bind(&cluster.id)
            .bind(&p.policy)
            .bind(to_i64(r.policy_version))
            .bind(p.status.as_str())
            .bind(to_i64(p.violations))
            .bind(to_i64(now))
            .execute(&mut *tx)
            .await?;
            if same {
                continue;
            }
            sqlx::query(
                "INSERT INTO hub_compliance_history (at, cluster_id, cluster_name, policy, \
                 policy_version, status, violations) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(to_i64(now))
            .bind(&cluster.id)
            .bind(&cluster.name)
            .bind(&p.policy)
            .bind(to_i64(r.policy_version))
            .bind(p.status.as_str())
            .bind(to_i64(p.violations))
            .execute(&mut *tx)
            .await?;
            changed.push(Changed {
                policy: p.policy.clone(),
                status: p.status,
            });
        }
        sqlx::query(
            "UPDATE hub_clusters SET last_report_at = $1, policy_version = $2, \
             webhook_serving = $3 WHERE cluster_id = $4",
        )
        .bind(to_i64(now))
        .bind(to_i64(r.policy_version))
        .bind(i64::from(r.webhook_serving))
        .bind(&cluster.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Every cluster's latest status for every policy it reported.
    pub(crate) async fn compliance_rows(&self) -> Result<Vec<StatusRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT cluster_id, policy, policy_version, status, violations, reported_at \
             FROM hub_compliance",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatusRow {
                    cluster_id: r.try_get("cluster_id")?,
                    policy: r.try_get("policy")?,
                    policy_version: to_u64(r.try_get("policy_version")?),
                    status: parse_status(&r.try_get::<String, _>("status")?)?,
                    violations: to_u64(r.try_get("violations")?),
                    reported_at: to_u64(r.try_get("reported_at")?),
                })
            })
            .collect()
    }

    /// The history's changes matching `f`, oldest first, at most `limit`.
    pub(crate) async fn compliance_history(
        &self,
        f: &HistoryFilter,
        limit: usize,
    ) -> Result<Vec<ComplianceChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, cluster_id, cluster_name, policy, policy_version, status, violations \
             FROM hub_compliance_history WHERE at >= $1 AND at < $2 \
             AND ($3 = '' OR cluster_id = $3 OR cluster_name = $3) AND ($4 = '' OR policy = $4) \
             AND ($6 = '' OR COALESCE((SELECT o.org FROM owners o WHERE o.kind = $7 \
             AND o.id = hub_compliance_history.cluster_id), $8) = $6) \
             ORDER BY seq LIMIT $5",
        )
        .bind(to_i64(f.since))
        .bind(to_i64(f.until))
        .bind(f.cluster.clone().unwrap_or_default())
        .bind(f.policy.clone().unwrap_or_default())
        .bind(to_i64(u64::try_from(limit).unwrap_or(u64::MAX)))
        .bind(f.org.clone().unwrap_or_default())
        .bind(crate::identity::store::ObjectKind::Cluster.as_str())
        .bind(crate::identity::DEFAULT_ORG)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ComplianceChange {
                    at: to_u64(r.try_get("at")?),
                    cluster: r.try_get("cluster_id")?,
                    cluster_name: r.try_get("cluster_name")?,
                    policy: r.try_get("policy")?,
                    policy_version: to_u64(r.try_get("policy_version")?),
                    status: parse_status(&r.try_get::<String, _>("status")?)?,
                    violations: to_u64(r.try_get("violations")?),
                })
            })
            .collect()
    }

    /// Marks cluster `id`'s outage as alerted (`down`) or over; `true` only for the one
    /// caller (of every replica) that made the change.
    pub(crate) async fn set_cluster_outage(
        &self,
        id: &str,
        down: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE hub_clusters SET outage = $1 WHERE cluster_id = $2 AND outage = $3",
        )
        .bind(i64::from(down))
        .bind(id)
        .bind(i64::from(!down))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Clusters not yet marked down whose last report (or registration, if none) is
    /// older than `cutoff`.
    pub(crate) async fn overdue_clusters(
        &self,
        cutoff: u64,
    ) -> Result<Vec<ClusterRow>, StoreError> {
        let q = format!(
            "SELECT {CLUSTER_COLUMNS} FROM hub_clusters WHERE outage = 0 \
             AND COALESCE(last_report_at, registered_at) < $1"
        );
        let rows = sqlx::query(&q)
            .bind(to_i64(cutoff))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(cluster_row).collect()
    }
}
