//! Bindings of hosts to Kubernetes Nodes, and the "re-read this host" events written with
//! every change of what the controller publishes about a host (its binding, its asset
//! tags, its kubelet's pid limit): an event whose `previous` equals its `trust`, in the same transaction as the
//! change, so a follower of the event log learns of it as it learns of trust changes.

use super::hosts::{host_from_row, HOST_COLUMNS};
use super::{to_u64, HostRow, ReportRow, Store, StoreError};
use ironroot_api::TrustEvent;
use sqlx::Row;

/// A bound host with what the controller publishes: its trust deadline and the latest
/// report (the one its trust state was recorded from).
#[derive(Debug, Clone)]
pub struct BoundHost {
    pub host: HostRow,
    /// The Node name (also in `host.k8s_node`, here without the `Option`).
    pub node: String,
    pub trust_deadline: Option<u64>,
    pub report: Option<ReportRow>,
    /// The kubelet `podPidsLimit` sent with the host's latest accepted evidence.
    pub pod_pids_limit: Option<i64>,
}

/// What a binding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindOutcome {
    /// The host is bound to the Node now; `previous` is the Node it was bound to before
    /// (the same name when nothing changed, and then no event was written).
    Bound {
        previous: Option<String>,
    },
    UnknownHost,
    /// Another host holds the Node name: nothing changed.
    Taken {
        host_id: String,
        hostname: String,
    },
}

/// What an unbinding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnbindOutcome {
    /// The host was bound to this Node and is not any more.
    Unbound {
        node: String,
    },
    UnknownHost,
    NotBound,
}

/// The SELECT of bound hosts: the host's columns, its deadline, and its latest report
/// (`last_report_id`, which the verdict writer sets with the trust state and report
/// pruning never deletes) under aliases that cannot clash with the host's.
fn bound_query(filter: &str) -> String {
    let host_cols = HOST_COLUMNS
        .split(',')
        .map(|c| format!("h.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {host_cols}, h.trust_deadline, h.kubelet_pod_pids_limit, r.report_id AS r_report_id, \
         r.created AS r_created, r.expires AS r_expires, r.trusted AS r_trusted, \
         r.report AS r_report, r.jws AS r_jws \
         FROM hosts h LEFT JOIN reports r ON r.report_id = h.last_report_id \
         WHERE h.k8s_node IS NOT NULL {filter} ORDER BY h.k8s_node"
    )
}

fn bound_from_row(r: &sqlx::any::AnyRow) -> Result<BoundHost, StoreError> {
    let host = host_from_row(r)?;
    let node = host
        .k8s_node
        .clone()
        .ok_or_else(|| StoreError::Corrupt(format!("host {} lost its node", host.host_id)))?;
    let report = match r.try_get::<Option<String>, _>("r_report_id")? {
        None => None,
        Some(report_id) => Some(ReportRow {
            report_id,
            host_id: host.host_id.clone(),
            created: to_u64(r.try_get("r_created")?),
            expires: to_u64(r.try_get("r_expires")?),
            trusted: r.try_get::<i64, _>("r_trusted")? != 0,
            report: r.try_get("r_report")?,
            jws: r.try_get("r_jws")?,
        }),
    };
    Ok(BoundHost {
        node,
        trust_deadline: r.try_get::<Option<i64>, _>("trust_deadline")?.map(to_u64),
        pod_pids_limit: r.try_get("kubelet_pod_pids_limit")?,
        host,
        report,
    })
}

impl Store {
    /// Binds `host_id` to Kubernetes Node `node` (replacing its earlier binding), unless
    /// another host holds that Node; a change logs a re-read event in the same
    /// transaction.
    pub async fn bind_node(
        &self,
        host_id: &str,
        node: &str,
        now: u64,
    ) -> Result<BindOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(previous) = lock_host(&mut tx, host_id).await? else {
            return Ok(BindOutcome::UnknownHost);
        };
        if previous.as_deref() == Some(node) {
            return Ok(BindOutcome::Bound { previous });
        }
        if let Some(taken) = holder(&mut tx, node, host_id).await? {
            return Ok(taken);
        }
        let updated = sqlx::query("UPDATE hosts SET k8s_node = $1 WHERE host_id = $2")
            .bind(node)
            .bind(host_id)
            .execute(&mut *tx)
            .await;
        match updated {
            // Two bindings of one Node raced past the check: the unique index refused
            // this one, which learns who won.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tx.rollback().await?;
                let mut conn = self.pool().acquire().await?;
                let taken = holder(&mut conn, node, host_id).await?;
                return Ok(taken.unwrap_or(BindOutcome::UnknownHost));
            }
            other => other?,
        };
        let reason = match &previous {
            Some(old) => format!("bound to Kubernetes node {node} (was {old})"),
            None => format!("bound to Kubernetes node {node}"),
        };
        facts_changed(&mut tx, host_id, reason, now).await?;
        tx.commit().await?;
        Ok(BindOutcome::Bound { previous })
    }

    /// Unbinds `host_id` from its Node; logs a re-read event in the same transaction.
    pub async fn unbind_node(&self, host_id: &str, now: u64) -> Result<UnbindOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(bound) = lock_host(&mut tx, host_id).await? else {
            return Ok(UnbindOutcome::UnknownHost);
        };
        let Some(node) = bound else {
            return Ok(UnbindOutcome::NotBound);
        };
        sqlx::query("UPDATE hosts SET k8s_node = NULL WHERE host_id = $1")
            .bind(host_id)
            .execute(&mut *tx)
            .await?;
        let reason = format!("unbound from Kubernetes node {node}");
        facts_changed(&mut tx, host_id, reason, now).await?;
        tx.commit().await?;
        Ok(UnbindOutcome::Unbound { node })
    }

    /// Every bound host, by Node name.
    pub async fn bound_hosts(&self) -> Result<Vec<BoundHost>, StoreError> {
        let rows = sqlx::query(&bound_query("")).fetch_all(self.pool()).await?;
        rows.iter().map(bound_from_row).collect()
    }

    /// Records the kubelet `podPidsLimit` a host sent with accepted evidence (`None`: it
    /// sent none). Unchanged, nothing is written; a change logs a re-read event in the
    /// same transaction, so the controller republishes the host. Returns whether it changed.
    pub async fn set_pod_pids_limit(
        &self,
        host_id: &str,
        limit: Option<i64>,
        now: u64,
    ) -> Result<bool, StoreError> {
        let read = "SELECT kubelet_pod_pids_limit FROM hosts WHERE host_id = $1";
        let current = |r: Option<sqlx::any::AnyRow>| -> Result<Option<Option<i64>>, StoreError> {
            r.map(|r| r.try_get::<Option<i64>, _>(0))
                .transpose()
                .map_err(Into::into)
        };
        // The evidence handler calls this only when the limit differs from the host row
        // it loaded; the transaction checks again under the host's lock.
        let mut tx = self.begin_write().await?;
        if lock_host(&mut tx, host_id).await?.is_none() {
            return Ok(false);
        }
        let row = sqlx::query(read)
            .bind(host_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(old) = current(row)?.filter(|old| *old != limit) else {
            return Ok(false);
        };
        sqlx::query("UPDATE hosts SET kubelet_pod_pids_limit = $1 WHERE host_id = $2")
            .bind(limit)
            .bind(host_id)
            .execute(&mut *tx)
            .await?;
        let shown = |l: Option<i64>| l.map_or("none".to_owned(), |l| l.to_string());
        let reason = format!(
            "kubelet podPidsLimit changed from {} to {}",
            shown(old),
            shown(limit)
        );
        facts_changed(&mut tx, host_id, reason, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One bound host; `None` when unknown or unbound.
    pub async fn bound_host(&self, host_id: &str) -> Result<Option<BoundHost>, StoreError> {
        let row = sqlx::query(&bound_query("AND h.host_id = $1"))
            .bind(host_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(bound_from_row).transpose()
    }
}

/// Takes the host's row for writing before reading it, and returns its Node binding
/// (`None`: no such host). Writing first makes SQLite take its write lock now (waiting
/// its busy timeout for another writer) rather than fail a read-then-write transaction
/// that another writer overtook; on PostgreSQL it locks the row, so changes of one
/// host's binding are serial.
pub(super) async fn lock_host(
    conn: &mut sqlx::AnyConnection,
    host_id: &str,
) -> Result<Option<Option<String>>, StoreError> {
    let locked = sqlx::query("UPDATE hosts SET k8s_node = k8s_node WHERE host_id = $1")
        .bind(host_id)
        .execute(&mut *conn)
        .await?;
    if locked.rows_affected() == 0 {
        return Ok(None);
    }
    let row = sqlx::query("SELECT k8s_node FROM hosts WHERE host_id = $1")
        .bind(host_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(row.try_get(0)?))
}

/// The host other than `host_id` that holds `node`, as a refusal.
async fn holder(
    conn: &mut sqlx::AnyConnection,
    node: &str,
    host_id: &str,
) -> Result<Option<BindOutcome>, StoreError> {
    let row =
        sqlx::query("SELECT host_id, hostname FROM hosts WHERE k8s_node = $1 AND host_id <> $2")
            .bind(node)
            .bind(host_id)
            .fetch_optional(conn)
            .await?;
    row.map(|r| {
        Ok(BindOutcome::Taken {
            host_id: r.try_get(0)?,
            hostname: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Logs, inside the caller's transaction, that what is published about `host_id`
/// changed: an event whose `previous` and `trust` are both the host's recorded state,
/// with `reason` as its one line. Nothing is logged for a host that is gone.
pub(super) async fn facts_changed(
    conn: &mut sqlx::AnyConnection,
    host_id: &str,
    reason: String,
    at: u64,
) -> Result<(), StoreError> {
    let Some(row) = sqlx::query("SELECT hostname, trust_state FROM hosts WHERE host_id = $1")
        .bind(host_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(());
    };
    let trust = super::trust::stored_state(row.try_get(1)?)?;
    let event = TrustEvent {
        host_id: host_id.to_owned(),
        hostname: row.try_get(0)?,
        previous: trust,
        trust,
        at,
        report_id: None,
        report_jws: None,
        reasons: vec![reason],
    };
    super::events::insert(conn, &event).await
}
