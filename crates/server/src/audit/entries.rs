//! The entries the service logs, one constructor per kind, so each kind's fields are
//! written down once. Bodies hold identifiers and SHA-256 digests of the signed objects
//! (a trust report is a JWS: its digest proves which one without copying it); never key
//! material, tokens or evidence.

use super::NewEntry;
use crate::store::{ReleaseRow, ReportRow};
use ironroot_api::{PolicyVersion, TrustState};
use ironroot_crypto::{digest, HashAlg};
use serde_json::json;

/// The actor of decisions the service makes itself (verdicts).
pub(crate) const SERVICE: &str = "service";
/// The actor of requests made with the administrator token (until people have roles).
pub(crate) const ADMIN: &str = "admin";

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

/// A new version of the policy set: its number, the SHA-256 of its document, and who
/// wrote it (the `by` of the change).
pub(crate) fn policy_version(v: &PolicyVersion) -> NewEntry {
    NewEntry {
        at: v.at,
        kind: "policy.version",
        actor: v.by.clone(),
        subject: format!("policy/{}", v.version),
        body: json!({
            "version": v.version,
            "document_sha256": v.sha256,
            "by": v.by,
        }),
    }
}

/// A cluster registered: its id, name and the serial of the certificate issued to it.
pub(crate) fn cluster_registered(id: &str, name: &str, cert_serial: &str, at: u64) -> NewEntry {
    NewEntry {
        at,
        kind: "cluster.registered",
        actor: ADMIN.to_owned(),
        subject: format!("cluster/{id}"),
        body: json!({ "cluster_id": id, "name": name, "cert_serial": cert_serial }),
    }
}

/// A cluster removed (its certificate revoked with it).
pub(crate) fn cluster_removed(id: &str, at: u64) -> NewEntry {
    NewEntry {
        at,
        kind: "cluster.removed",
        actor: ADMIN.to_owned(),
        subject: format!("cluster/{id}"),
        body: json!({ "cluster_id": id }),
    }
}
