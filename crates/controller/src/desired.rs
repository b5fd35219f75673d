//! What a Node should say about itself, decided from what the service reports for the
//! host bound to it, and the one merge patch that makes the Node say it.
//!
//! Pure: no clock, no client. The reconciler feeds it the service's view, the Node as the
//! API server last showed it, and the time.

use crate::labels::{
    is_ours, tag_label, tag_of_label, HOST_ANNOTATION, REASON_ANNOTATION, REPORT_ANNOTATION,
    REPORT_EXPIRES_ANNOTATION, TAINT_KEY, TRUST_LABEL,
};
use crate::view::NodeView;
use ironroot_api::{NodeTrust, TrustState};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The longest reason written in an annotation (a report can list many failed rules).
const MAX_REASON: usize = 512;

/// How the taint on a Node that is not trusted acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaintEffect {
    /// New pods are not scheduled there; running ones stay (the drain moves them,
    /// honouring PodDisruptionBudgets).
    NoSchedule,
    /// Pods that do not tolerate it are deleted at once, ignoring PodDisruptionBudgets:
    /// only on `untrusted` Nodes, only when asked for, and never while the brake holds.
    NoExecute,
}

impl TaintEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }
    }
}

/// What the controller knows when it decides a Node.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The host bound to this Node by an administrator, as the service last reported it.
    pub bound: Option<&'a NodeTrust>,
    /// The Node's `status.nodeInfo.systemUUID` (reported by its kubelet).
    pub system_uuid: Option<&'a str>,
    /// Whether the service's view is current (read, and the event stream connected or
    /// only briefly interrupted). When it is not, nothing is known: `unknown`.
    pub service_current: bool,
    /// Unix seconds now, by the controller's clock.
    pub now: u64,
}

/// The view of a Node, with the signed report to publish on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub view: NodeView,
    /// The latest report (JWS) and when it expires; kept while the service is unreachable.
    pub report: Option<(String, u64)>,
}

/// Decides a Node. Only an administrator's binding links a host to a Node; the Node's
/// name, the host's name and any UUID the node reports prove nothing. The systemUUID is
/// compared only to catch a binding to the wrong machine: a node's root can set both, so a
/// match never makes a Node trusted on its own.
pub fn decide(f: Facts<'_>) -> Desired {
    let Some(b) = f.bound else {
        return Desired {
            view: NodeView::unknown(
                "no ironroot host is bound to this node (ironroot host bind HOST NODE)",
            ),
            report: None,
        };
    };
    let report = match (&b.report_jws, b.report_expires) {
        (Some(jws), Some(exp)) => Some((jws.clone(), exp)),
        _ => None,
    };
    let tags: BTreeMap<String, String> = b
        .asset_tags
        .iter()
        .filter(|(k, v)| tag_label(k).is_some() && crate::labels::is_label_value(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut view = NodeView {
        trust: b.trust.as_of(b.trust_expires_at, f.now),
        tags,
        host_id: Some(b.host_id.clone()),
        reason: String::new(),
        pod_pids_limit: b.pod_pids_limit,
    };
    let uuid_mismatch = match f.system_uuid {
        Some(u) if !u.is_empty() && !b.hardware_uuid.is_empty() => {
            !u.eq_ignore_ascii_case(&b.hardware_uuid)
        }
        _ => false,
    };
    if !f.service_current {
        view.trust = TrustState::Unknown;
        view.reason = "the attestation service cannot be reached".into();
    } else if uuid_mismatch {
        view.trust = TrustState::Unknown;
        view.reason = format!(
            "host {} is bound here, but its hardware UUID {} is not this node's systemUUID {}",
            b.hostname,
            b.hardware_uuid,
            f.system_uuid.unwrap_or_default()
        );
    } else {
        view.reason = match view.trust {
            TrustState::Trusted => String::new(),
            TrustState::Untrusted if !b.failures.is_empty() => b.failures.join("; "),
            TrustState::Untrusted => "the latest attestation failed".into(),
            TrustState::Expired => "no passing attestation before the deadline".into(),
            TrustState::Unknown => "the host has not attested yet".into(),
        };
    }
    Desired { view, report }
}

/// The Node's current labels, annotations and taints, as the API server showed them.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub resource_version: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Each taint as JSON (`key`, `value`, `effect`, `timeAdded`), in order.
    pub taints: Vec<Value>,
}

/// The merge patch that makes the Node say `d`, or `None` when it already does. It
/// carries the Node's resourceVersion, so a concurrent change (the node lifecycle
/// controller adding a taint) makes the API server answer 409 instead of one writer's
/// taint list replacing the other's; the reconciler then reads again.
pub fn patch(obs: &Observed, d: &Desired, effect: TaintEffect) -> Option<Value> {
    let mut labels = Map::new();
    let mut want_labels: BTreeMap<String, String> = BTreeMap::new();
    want_labels.insert(TRUST_LABEL.into(), d.view.trust.as_str().into());
    for (k, v) in &d.view.tags {
        if let Some(l) = tag_label(k) {
            want_labels.insert(l, v.clone());
        }
    }
    for (k, v) in &want_labels {
        if obs.labels.get(k) != Some(v) {
            labels.insert(k.clone(), json!(v));
        }
    }
    for k in obs.labels.keys() {
        if (k == TRUST_LABEL || tag_of_label(k).is_some()) && !want_labels.contains_key(k) {
            labels.insert(k.clone(), Value::Null);
        }
    }

    let mut want_ann: BTreeMap<&str, String> = BTreeMap::new();
    if let Some((jws, exp)) = &d.report {
        want_ann.insert(REPORT_ANNOTATION, jws.clone());
        want_ann.insert(
            REPORT_EXPIRES_ANNOTATION,
            ironroot_timestamp::rfc3339::format(*exp),
        );
    }
    if let Some(h) = &d.view.host_id {
        want_ann.insert(HOST_ANNOTATION, h.clone());
    }
    if !d.view.reason.is_empty() {
        want_ann.insert(REASON_ANNOTATION, truncate(&d.view.reason, MAX_REASON));
    }
    let mut annotations = Map::new();
    for (k, v) in &want_ann {
        if obs.annotations.get(*k) != Some(v) {
            annotations.insert((*k).into(), json!(v));
        }
    }
    for k in obs.annotations.keys() {
        if is_ours(k) && !want_ann.contains_key(k.as_str()) {
            annotations.insert(k.clone(), Value::Null);
        }
    }

    let want_taint = (d.view.trust != TrustState::Trusted).then(|| {
        let effect = if d.view.trust == TrustState::Untrusted {
            effect
        } else {
            // unknown and expired never empty a Node: they only stop new scheduling.
            TaintEffect::NoSchedule
        };
        json!({"key": TAINT_KEY, "value": d.view.trust.as_str(), "effect": effect.as_str()})
    });
    let ours: Vec<&Value> = obs
        .taints
        .iter()
        .filter(|t| t["key"] == TAINT_KEY)
        .collect();
    let taint_ok = match &want_taint {
        None => ours.is_empty(),
        Some(w) => {
            ours.len() == 1 && ours[0]["value"] == w["value"] && ours[0]["effect"] == w["effect"]
        }
    };

    if labels.is_empty() && annotations.is_empty() && taint_ok {
        return None;
    }
    let mut metadata = Map::new();
    if let Some(rv) = &obs.resource_version {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    if !labels.is_empty() {
        metadata.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        metadata.insert("annotations".into(), Value::Object(annotations));
    }
    let mut p = json!({ "metadata": metadata });
    if !taint_ok {
        let mut taints: Vec<Value> = obs
            .taints
            .iter()
            .filter(|t| t["key"] != TAINT_KEY)
            .cloned()
            .collect();
        taints.extend(want_taint);
        p["spec"] = json!({ "taints": taints });
    }
    Some(p)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
#[path = "desired_tests.rs"]
mod tests;
