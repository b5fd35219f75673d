//! The hub's alerts (docs/alerts.md, docs/hub.md): every violation a cluster reports,
//! the samples of a policy that became non-compliant, and a cluster whose reports stop
//! or whose webhook is down. A policy compliant again in a cluster resolves its alerts
//! there; a cluster reporting healthy again resolves its outage.
//!
//! A cluster's alerts name it by its name (`cluster/NAME/…`), while organisations own
//! clusters by id: each alert is raised in the organisation of the cluster that caused it,
//! looked up by that cluster's id here, where the cluster is known.

use super::store::{Changed, ClusterRow};
use super::CallingCluster;
use crate::alerts::{raise, raise_in, resolve_key, resolve_matching};
use crate::audit::{self, entries, NewEntry};
use crate::identity::store::ObjectKind;
use crate::store::{Store, StoreError};
use crate::{now, AppState};
use ironroot_alerts::{AlertKey, Occurrence, Remediation, Severity};
use ironroot_api::{
    ComplianceReport, ComplianceStatus, ObjectRef, ViolationAction, ViolationBatch,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The kind of a cluster's outage alert (`hub` / `cluster/NAME` / `cluster-outage`).
pub(crate) const OUTAGE_KIND: &str = "cluster-outage";

/// The severities of organisation `org`'s current policy set, by policy id (medium for
/// one it does not hold).
async fn severities(st: &AppState, org: &str) -> Result<HashMap<String, Severity>, StoreError> {
    let current = st.store.current_policy(org, false).await?;
    Ok(current
        .map(|(v, _)| v.policies)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| Severity::from_name(&p.severity).map(|s| (p.id, s)))
        .collect())
}

/// The organisation that owns cluster `id`: its alerts are that organisation's.
async fn cluster_org(st: &AppState, id: &str) -> Result<String, StoreError> {
    st.store.owner(ObjectKind::Cluster, id).await
}

fn object_path(o: &ObjectRef) -> String {
    format!("{}/{}/{}", o.namespace, o.kind, o.name)
}

/// Raises one violation's alert. A key or text the alert model refuses (control
/// characters, too long) is logged and skipped: one bad object never loses the others.
async fn raise_violation(
    st: &AppState,
    cluster: &CallingCluster,
    org: &str,
    policy: &str,
    object: &ObjectRef,
    occurrence: Occurrence,
) -> Result<bool, StoreError> {
    let key = match AlertKey::policy_violation(policy, &cluster.name, &object_path(object)) {
        Ok(k) => k,
        Err(e) => {
            tracing::warn!(cluster = %cluster.name, error = %e, "no alert for an unusable violation");
            return Ok(false);
        }
    };
    if let Err(e) = occurrence.check() {
        tracing::warn!(cluster = %cluster.name, error = %e, "no alert for an unusable violation");
        return Ok(false);
    }
    raise(st, &key, &occurrence, org).await?;
    Ok(true)
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(400)
        .collect()
}

/// `POST /v1/cluster/violations`: one alert per event, with the remediation the cluster
/// took (`deny` for a request refused at admission), and one audit entry per event
/// (`admission.decision` or `policy.finding`), all in one write transaction. Returns how
/// many alerts were raised.
pub(crate) async fn on_violations(
    st: &AppState,
    cluster: &CallingCluster,
    b: &ViolationBatch,
) -> Result<usize, StoreError> {
    let org = cluster_org(st, &cluster.id).await?;
    let sev = severities(st, &org).await?;
    let at = now();
    let mut raises = Vec::with_capacity(b.violations.len());
    for v in &b.violations {
        let (remediation, verb) = match v.action {
            ViolationAction::Denied => (Remediation::Deny, "denied at admission"),
            ViolationAction::Admitted => (Remediation::None, "admitted (audit or fail-open)"),
            ViolationAction::Found => (Remediation::None, "found by the background audit"),
        };
        let o = Occurrence {
            severity: sev.get(&v.policy).copied().unwrap_or(Severity::Medium),
            title: one_line(&format!(
                "policy {} violated by {} {}/{} in cluster {}",
                v.policy, v.object.kind, v.object.namespace, v.object.name, cluster.name
            )),
            details: format!("{}\n{verb}", v.message),
            remediation,
            at,
        };
        if let Some(key) = usable(cluster, &v.policy, &v.object, &o) {
            raises.push((key, o));
        }
    }
    let logged: Vec<NewEntry> = b
        .violations
        .iter()
        .map(|v| entries::admission_decision(cluster, v, at))
        .collect();
    raise_logged(&st.store, &org, &raises, &logged).await?;
    if !raises.is_empty() {
        st.alerts.poke();
    }
    Ok(raises.len())
}

/// The alert key of a violation whose key and text the alert model accepts; one it
/// refuses (control characters, too long) is logged and skipped, so one bad object never
/// loses the others (its audit entry is still written).
fn usable(
    cluster: &CallingCluster,
    policy: &str,
    object: &ObjectRef,
    o: &Occurrence,
) -> Option<AlertKey> {
    let checked = AlertKey::policy_violation(policy, &cluster.name, &object_path(object))
        .map_err(|e| e.to_string())
        .and_then(|k| o.check().map(|()| k).map_err(|e| e.to_string()));
    match checked {
        Ok(k) => Some(k),
        Err(e) => {
            tracing::warn!(cluster = %cluster.name, error = %e, "no alert for an unusable violation");
            None
        }
    }
}

/// Raises `raises` for `org` (the calling cluster's organisation) and appends `logged`
/// in one write transaction: a violation is in the audit trail exactly when its alert is
/// stored.
pub(crate) async fn raise_logged(
    store: &Store,
    org: &str,
    raises: &[(AlertKey, Occurrence)],
    logged: &[NewEntry],
) -> Result<(), StoreError> {
    let mut tx = store.begin_write().await?;
    for (key, o) in raises {
        let changed = raise_in(&mut tx, key, o, org).await?;
        tracing::info!(alert = %changed.id, change = changed.change.as_str(), subject = key.subject(), "alert");
    }
    audit::append(&mut tx, logged).await?;
    tx.commit().await?;
    Ok(())
}

/// After a compliance report is stored: a policy that became non-compliant raises its
/// samples' alerts (once per change, not at every report, so sinks are not told the same
/// again each interval); one that became compliant resolves its alerts in this cluster;
/// the webhook's state raises or resolves the cluster's outage.
pub(crate) async fn on_report(
    st: &AppState,
    cluster: &CallingCluster,
    r: &ComplianceReport,
    changed: &[Changed],
) -> Result<(), StoreError> {
    let org = cluster_org(st, &cluster.id).await?;
    let sev = severities(st, &org).await?;
    let at = now();
    for c in changed {
        match c.status {
            ComplianceStatus::NonCompliant => {
                let Some(p) = r.policies.iter().find(|p| p.policy == c.policy) else {
                    continue;
                };
                for s in &p.samples {
                    let o = Occurrence {
                        severity: sev.get(&p.policy).copied().unwrap_or(Severity::Medium),
                        title: one_line(&format!(
                            "policy {} violated by {} {}/{} in cluster {}",
                            p.policy,
                            s.object.kind,
                            s.object.namespace,
                            s.object.name,
                            cluster.name
                        )),
                        details: format!(
                            "{}\nfound by the background audit ({} of {} objects violate it)",
                            s.message, p.violations, p.checked
                        ),
                        remediation: Remediation::None,
                        at,
                    };
                    raise_violation(st, cluster, &org, &p.policy, &s.object, o).await?;
                }
            }
            ComplianceStatus::Compliant => {
                let n = resolve_matching(
                    st,
                    &org,
                    &format!("policy/{}", c.policy),
                    &format!("cluster/{}/", cluster.name),
                    at,
                )
                .await?;
                if n > 0 {
                    tracing::info!(cluster = %cluster.name, policy = %c.policy, alerts = n, "policy compliant again: alerts resolved");
                }
            }
            _ => {}
        }
    }
    if r.webhook_serving {
        outage_over(st, &cluster.id, &cluster.name).await
    } else {
        outage(
            st,
            &cluster.id,
            &cluster.name,
            "its admission webhook is not serving",
        )
        .await
    }
}

fn outage_key(name: &str) -> Result<AlertKey, StoreError> {
    AlertKey::new("hub", &format!("cluster/{name}"), OUTAGE_KIND)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Raises cluster `name`'s outage alert, once: the replica whose compare-and-set marks
/// the cluster down raises it.
async fn outage(st: &AppState, id: &str, name: &str, why: &str) -> Result<(), StoreError> {
    if !st.store.set_cluster_outage(id, true).await? {
        return Ok(());
    }
    let o = Occurrence {
        severity: Severity::High,
        title: format!("cluster {name} unreachable or its webhook is down"),
        details: format!(
            "{why}: policies are not known to be enforced there (enforcement fails open or \
             closed per policy)"
        ),
        remediation: Remediation::None,
        at: now(),
    };
    // In the organisation of the cluster, by its id: another organisation's former
    // cluster of this name is no concern of this one's.
    let raised = async {
        let org = cluster_org(st, id).await?;
        raise(st, &outage_key(name)?, &o, &org).await
    }
    .await;
    if let Err(e) = raised {
        // Clear the mark again so that the next check (here or on another replica)
        // raises it: a mark without its alert would hide the outage for good.
        st.store.set_cluster_outage(id, false).await?;
        return Err(e);
    }
    Ok(())
}

/// A removed cluster's outage is no longer anyone's to fix: resolved with it.
pub(crate) async fn cluster_removed(st: &AppState, name: &str) -> Result<(), StoreError> {
    resolve_key(st, &outage_key(name)?, now()).await?;
    Ok(())
}

/// Resolves cluster `name`'s outage, once, when it reports a serving webhook again.
async fn outage_over(st: &AppState, id: &str, name: &str) -> Result<(), StoreError> {
    if !st.store.set_cluster_outage(id, false).await? {
        return Ok(());
    }
    resolve_key(st, &outage_key(name)?, now()).await?;
    Ok(())
}

/// How often overdue clusters are looked for: a few times per staleness bound.
fn watch_every(stale_secs: u64) -> Duration {
    Duration::from_secs((stale_secs / 4).clamp(1, 30))
}

/// Raises the outage alert of each cluster whose reports are overdue (every replica runs
/// this; the compare-and-set in [`outage`] keeps the alert single).
pub(crate) async fn watch_outages(st: Arc<AppState>) {
    let stale = st.config.cluster_stale_secs;
    let mut tick = tokio::time::interval(watch_every(stale));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let overdue: Vec<ClusterRow> =
            match st.store.overdue_clusters(now().saturating_sub(stale)).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "cluster outage check failed; will retry");
                    continue;
                }
            };
        for c in overdue {
            let why = match c.last_report_at {
                Some(at) => format!(
                    "no report for {} s (bound {stale} s)",
                    now().saturating_sub(at)
                ),
                None => format!("no report since it was registered (bound {stale} s)"),
            };
            if let Err(e) = outage(&st, &c.id, &c.name, &why).await {
                tracing::warn!(cluster = %c.name, error = %e, "cluster outage alert failed; will retry");
            }
        }
    }
}
