//! The entries the service logs, one constructor per kind, so each kind's fields are
//! written down once. Bodies hold identifiers and SHA-256 digests of the signed objects
//! (a trust report is a JWS: its digest proves which one without copying it); never key
//! material, tokens or evidence.

use super::NewEntry;
use crate::hub::{CallingCluster, HostAtBinding};
use crate::store::{ReleaseRow, ReportRow};
use ironroot_api::{
    PolicyVersion, RemediationReport, TrustState, ViolationAction, ViolationEvent, WorkloadBinding,
};
use ironroot_crypto::{digest, HashAlg};
use serde_json::json;

/// The actor of decisions the service makes itself (verdicts).
pub(crate) const SERVICE: &str = "service";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest(HashAlg::Sha256, bytes))
}

/// A verdict on a host's evidence: the report (by id and the digest of its JWS), the
/// verdict and the trust state it led to.
pub(crate) fn trust_decision(report: &ReportRow, hostname: &str, after: TrustState) -> NewEntry {
    NewEntry {
        at: report.created,
        kind: "trust.decision",
        actor: SERVICE.to_owned(),
        subject: format!("host/{}", report.host_id),
        body: json!({
            "host_id": report.host_id,
            "hostname": hostname,
            "report_id": report.report_id,
            "report_jws_sha256": sha256_hex(report.jws.as_bytes()),
            "verdict": if report.trusted { "trusted" } else { "untrusted" },
            "trust_state": after.as_str(),
        }),
    }
}

/// A key release or refusal, as the broker's release log records it (without the
/// evidence detail, which stays in the release log).
pub(crate) fn key_release(r: &ReleaseRow) -> NewEntry {
    let host = r.host_id.as_deref().unwrap_or("unknown");
    NewEntry {
        at: r.at,
        kind: if r.released {
            "key.released"
        } else {
            "key.refused"
        },
        actor: format!("host/{host}"),
        subject: format!("key/{}", r.key_id),
        body: json!({
            "key_id": r.key_id,
            "host_id": r.host_id,
            "hostname": r.hostname,
            "released": r.released,
            "reason": r.reason,
            "report_id": r.report_id,
        }),
    }
}

/// A new version of organisation `org`'s policy set: its number, the organisation, the
/// SHA-256 of its document, and who wrote it (the `by` of the change).
pub(crate) fn policy_version(org: &str, v: &PolicyVersion) -> NewEntry {
    NewEntry {
        at: v.at,
        kind: "policy.version",
        actor: v.by.clone(),
        subject: format!("policy/{}", v.version),
        body: json!({
            "version": v.version,
            "organisation": org,
            "document_sha256": v.sha256,
            "by": v.by,
        }),
    }
}

/// A cluster registered: its id, name and the serial of the certificate issued to it.
pub(crate) fn cluster_registered(
    actor: &str,
    id: &str,
    name: &str,
    cert_serial: &str,
    at: u64,
) -> NewEntry {
    NewEntry {
        at,
        kind: "cluster.registered",
        actor: actor.to_owned(),
        subject: format!("cluster/{id}"),
        body: json!({ "cluster_id": id, "name": name, "cert_serial": cert_serial }),
    }
}

/// A cluster removed (its certificate revoked with it).
pub(crate) fn cluster_removed(actor: &str, id: &str, at: u64) -> NewEntry {
    NewEntry {
        at,
        kind: "cluster.removed",
        actor: actor.to_owned(),
        subject: format!("cluster/{id}"),
        body: json!({ "cluster_id": id }),
    }
}

/// The actor of what a cluster's controller reports: `cluster/<id>`.
fn cluster_actor(c: &CallingCluster) -> String {
    format!("cluster/{}", c.id)
}

/// An object of a cluster: `<kind in lowercase>/<cluster id>/<namespace>/<name>`
/// (`pod/…` for a pod), so that two clusters' namespaces never share a subject.
fn cluster_object(c: &CallingCluster, kind: &str, namespace: &str, name: &str) -> String {
    format!("{}/{}/{namespace}/{name}", kind.to_ascii_lowercase(), c.id)
}

/// An admission decision a cluster's webhook reported (`admission.decision`: a pod
/// refused, or admitted with a violation in audit mode or failing open), or a violation
/// its background audit found on a running object (`policy.finding`). `at` is the hub's
/// receipt time; the cluster's own time is `observed_at`.
pub(crate) fn admission_decision(c: &CallingCluster, v: &ViolationEvent, at: u64) -> NewEntry {
    let (kind, decision) = match v.action {
        ViolationAction::Denied => ("admission.decision", "denied"),
        ViolationAction::Admitted => ("admission.decision", "admitted"),
        ViolationAction::Found => ("policy.finding", "found"),
    };
    NewEntry {
        at,
        kind,
        actor: cluster_actor(c),
        subject: cluster_object(c, &v.object.kind, &v.object.namespace, &v.object.name),
        body: json!({
            "cluster_id": c.id,
            "cluster_name": c.name,
            "policy": v.policy,
            "decision": decision,
            "namespace": v.object.namespace,
            "object_kind": v.object.kind,
            "name": v.object.name,
            "observed_at": v.at,
        }),
    }
}

/// What a cluster's controller did to the Node of a host that lost trust, and whether
/// the hub recorded it on the host's trust-loss alert (`alert_id`, when there is one).
pub(crate) fn remediation(
    c: &CallingCluster,
    r: &RemediationReport,
    recorded: bool,
    alert_id: Option<&str>,
    at: u64,
) -> NewEntry {
    NewEntry {
        at,
        kind: "remediation",
        actor: cluster_actor(c),
        subject: format!("host/{}", r.host_id),
        body: json!({
            "cluster_id": c.id,
            "cluster_name": c.name,
            "host_id": r.host_id,
            "node": r.node,
            "action": r.action.as_str(),
            "observed_at": r.at,
            "recorded": recorded,
            "alert_id": alert_id,
        }),
    }
}

/// A pod a cluster saw bound to a Node, with its images' digests, and the host bound to
/// that Node as the hub knew it at receipt (`None`: no host is bound to it).
pub(crate) fn workload_bound(
    c: &CallingCluster,
    w: &WorkloadBinding,
    host: Option<&HostAtBinding>,
    at: u64,
) -> NewEntry {
    let images: Vec<serde_json::Value> = w
        .images
        .iter()
        .map(|i| json!({ "container": i.container, "image": i.image, "digest": i.digest }))
        .collect();
    NewEntry {
        at,
        kind: "workload.bound",
        actor: cluster_actor(c),
        subject: cluster_object(c, "pod", &w.namespace, &w.pod),
        body: json!({
            "cluster_id": c.id,
            "cluster_name": c.name,
            "namespace": w.namespace,
            "pod": w.pod,
            "pod_uid": w.uid,
            "node": w.node,
            "images": images,
            "observed_at": w.at,
            "host_id": host.map(|h| h.host_id.as_str()),
            "hostname": host.map(|h| h.hostname.as_str()),
            "trust_state": host.map_or("unknown", |h| h.trust_state.as_str()),
            "report_id": host.and_then(|h| h.report_id.as_deref()),
            "report_jws_sha256": host.and_then(|h| h.report_jws.as_deref()).map(|j| sha256_hex(j.as_bytes())),
        }),
    }
}
