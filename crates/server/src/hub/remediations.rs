//! `POST /v1/cluster/remediations`: what a cluster's controller did to the Node of a host
//! that lost trust (tainted it, drained it, or had its drain held by the brake), recorded
//! on that host's trust-loss alert so the alert says which remediation was taken.
//!
//! A cluster speaks only for its own organisation's hosts, and only for the Node an
//! administrator bound the host to: another organisation's host reads as unknown, and a
//! report that names another Node is refused, so one cluster cannot mark another's host
//! as handled.
//! The alert's remediation only goes up (none < taint < held by the brake < drain), and a
//! resolved alert is never touched (a report arriving after the host's return to trust
//! must not reopen it). Every report taken is a `remediation` entry of the audit trail,
//! written in the transaction that amends the alert (docs/audit.md).

use super::CallingCluster;
use crate::alerts::{amend_unresolved_in, Amended};
use crate::audit::{self, entries, NewEntry};
use crate::error::{ApiJson, ServiceError};
use crate::identity::store::ObjectKind;
use crate::store::{Store, StoreError};
use crate::{now, AppState};
use axum::extract::State;
use axum::{Extension, Json};
use ironroot_alerts::{Alert, AlertKey, Occurrence, Remediation, MAX_DETAILS};
use ironroot_api::{
    RemediationAction, RemediationOutcome, RemediationReport, MAX_REMEDIATION_DETAIL,
};
use std::sync::Arc;

/// The longest host id a report may carry, in bytes.
const MAX_HOST_ID: usize = 253;
/// Where the alert's details say what was done (after the reasons of the trust loss).
const MARK: &str = "remediation: ";

/// The alert's remediation for a reported action.
pub(crate) fn remediation_of(a: RemediationAction) -> Remediation {
    match a {
        RemediationAction::Taint => Remediation::Taint,
        RemediationAction::Drain => Remediation::Drain,
        RemediationAction::HeldByBrake => Remediation::HeldByBrake,
    }
}

/// How far a remediation went: a held drain is more than a taint (the taint stays, and
/// someone must look at the brake) and less than a drain.
fn rank(r: Remediation) -> u8 {
    match r {
        Remediation::None | Remediation::Deny => 0,
        Remediation::Taint => 1,
        Remediation::HeldByBrake => 2,
        Remediation::Drain => 3,
    }
}

/// Whether a report of `new` is recorded on an alert showing `current`: an upgrade, or a
/// drain's progress (started, then finished); never a downgrade, never a repeat.
pub(crate) fn records(current: Remediation, new: Remediation) -> bool {
    rank(new) > rank(current) || (new == Remediation::Drain && current == Remediation::Drain)
}

/// The alert's details with `line` as its one remediation line (replacing an earlier
/// one), the reasons cut short if both would not fit.
pub(crate) fn details_with(details: &str, line: &str) -> String {
    let reasons = match details.find(&format!("\n\n{MARK}")) {
        Some(i) => &details[..i],
        None if details.starts_with(MARK) => "",
        None => details,
    };
    if reasons.is_empty() {
        return cut(line, MAX_DETAILS).to_owned();
    }
    let room = MAX_DETAILS.saturating_sub(line.len() + 2);
    format!("{}\n\n{}", cut(reasons, room), cut(line, MAX_DETAILS))
}

fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn check(r: &RemediationReport) -> Result<(), ServiceError> {
    let bad = |m: String| Err(ServiceError::BadRequest(m));
    if r.host_id.is_empty() || r.host_id.len() > MAX_HOST_ID || r.host_id.contains(char::is_control)
    {
        return bad(format!(
            "a host id must be 1-{MAX_HOST_ID} bytes without control characters"
        ));
    }
    if let Err(e) = ironroot_api::node_name(&r.node) {
        return bad(format!("the node name: {e}"));
    }
    if r.detail.len() > MAX_REMEDIATION_DETAIL || r.detail.contains(char::is_control) {
        return bad(format!(
            "a detail must be at most {MAX_REMEDIATION_DETAIL} bytes without control characters"
        ));
    }
    Ok(())
}

/// The occurrence a report adds to `alert`, or `None` when the alert shows as much.
fn occurrence(
    alert: &Alert,
    r: &RemediationReport,
    cluster: &CallingCluster,
    now: u64,
) -> Option<Occurrence> {
    let wanted = remediation_of(r.action);
    if !records(alert.remediation, wanted) {
        return None;
    }
    let mut line = format!(
        "{MARK}{} of node {} by cluster {} at {}",
        r.action.as_str(),
        r.node,
        cluster.name,
        r.at
    );
    if !r.detail.is_empty() {
        line = format!("{line}: {}", r.detail);
    }
    Some(Occurrence {
        severity: alert.severity,
        title: alert.title.clone(),
        details: details_with(&alert.details, &line),
        remediation: wanted,
        // The hub's clock: a cluster's clock must not move an alert's last sighting.
        at: now,
    })
}

/// Amends the host's trust-loss alert (as `next` says) and appends the entry `log`
/// makes of the outcome, in one write transaction: a remediation the hub took is in the
/// audit trail, recorded on an alert or not, and one it failed to store is in neither.
pub(crate) async fn record_remediation(
    store: &Store,
    key: &AlertKey,
    next: &(dyn Fn(&Alert) -> Option<Occurrence> + Sync),
    log: &(dyn Fn(&Amended) -> NewEntry + Sync),
) -> Result<Amended, StoreError> {
    let mut tx = store.begin_write().await?;
    let amended = amend_unresolved_in(&mut tx, key, next).await?;
    audit::append(&mut tx, &[log(&amended)]).await?;
    tx.commit().await?;
    Ok(amended)
}

/// `POST /v1/cluster/remediations`.
pub(crate) async fn report_remediation(
    State(st): State<Arc<AppState>>,
    Extension(cluster): Extension<CallingCluster>,
    ApiJson(r): ApiJson<RemediationReport>,
) -> Result<Json<RemediationOutcome>, ServiceError> {
    check(&r)?;
    let unknown = || {
        ServiceError::NotFound(format!(
            "host {} is unknown or bound to no Kubernetes node",
            r.host_id
        ))
    };
    // Another organisation's host does not exist for a cluster (its controller never
    // sees it in `/v1/nodes` either), so it cannot mark that host's alert as handled.
    let own = st
        .store
        .same_owner(
            (ObjectKind::Host, &r.host_id),
            (ObjectKind::Cluster, &cluster.id),
        )
        .await?;
    let Some(bound) = st.store.bound_host(&r.host_id).await?.filter(|_| own) else {
        return Err(unknown());
    };
    if bound.node != r.node {
        return Err(ServiceError::BadRequest(format!(
            "host {} is bound to node {}, not {}",
            r.host_id, bound.node, r.node
        )));
    }
    let key =
        AlertKey::trust_loss(&r.host_id).map_err(|e| ServiceError::BadRequest(e.to_string()))?;
    let at = now();
    let next = |a: &Alert| occurrence(a, &r, &cluster, at);
    let log = |a: &Amended| {
        let (recorded, alert_id) = match a {
            Amended::NoneUnresolved => (false, None),
            Amended::Unchanged { id, .. } => (false, Some(id.as_str())),
            Amended::Changed(c) => (true, Some(c.id.as_str())),
        };
        entries::remediation(&cluster, &r, recorded, alert_id, at)
    };
    let outcome = match record_remediation(&st.store, &key, &next, &log).await? {
        Amended::NoneUnresolved => {
            tracing::debug!(host = %r.host_id, cluster = %cluster.name, action = r.action.as_str(),
                "a remediation for a host with no unresolved trust-loss alert: not recorded");
            RemediationOutcome {
                recorded: false,
                alert_id: None,
                remediation: None,
                note: "the host has no unresolved trust-loss alert".into(),
            }
        }
        Amended::Unchanged { id, alert } => RemediationOutcome {
            recorded: false,
            alert_id: Some(id),
            remediation: Some(alert.remediation.as_str().into()),
            note: "the alert already shows this remediation or a further one".into(),
        },
        Amended::Changed(c) => {
            tracing::info!(alert = %c.id, host = %r.host_id, cluster = %cluster.name,
                remediation = c.alert.remediation.as_str(), "remediation recorded");
            st.alerts.poke();
            RemediationOutcome {
                recorded: true,
                alert_id: Some(c.id),
                remediation: Some(c.alert.remediation.as_str().into()),
                note: String::new(),
            }
        }
    };
    Ok(Json(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Remediation::*;

    #[test]
    fn a_remediation_only_goes_up_and_a_drain_may_report_its_progress() {
        assert!(records(None, Taint));
        assert!(records(Taint, HeldByBrake));
        assert!(records(HeldByBrake, Drain));
        assert!(records(Drain, Drain), "started, then finished");
        assert!(!records(Drain, HeldByBrake), "a drain is never downgraded");
        assert!(!records(Drain, Taint));
        assert!(!records(Taint, Taint), "a repeat adds nothing");
        assert!(!records(HeldByBrake, Taint));
    }

    #[test]
    fn the_remediation_line_replaces_the_last_one_and_keeps_the_reasons() {
        let one = details_with("pcr 7 changed", "remediation: taint of node w1");
        assert_eq!(one, "pcr 7 changed\n\nremediation: taint of node w1");
        let two = details_with(&one, "remediation: drain of node w1");
        assert_eq!(two, "pcr 7 changed\n\nremediation: drain of node w1");
        assert_eq!(details_with("", "remediation: x"), "remediation: x");
        assert_eq!(
            details_with("remediation: x", "remediation: y"),
            "remediation: y"
        );
        let long = "é".repeat(MAX_DETAILS);
        let fitted = details_with(&long, "remediation: drain");
        assert!(fitted.len() <= MAX_DETAILS);
        assert!(fitted.ends_with("\n\nremediation: drain"));
    }
}
