//! Attestation verdicts: every DSSE envelope in the image's `sha256-<hex>.att` tag,
//! checked against every trusted cosign key, each with a verdict or the reason why not.
//!
//! An attestation counts only when (1) a signature in its envelope verifies under a
//! trusted key over the DSSE encoding, (2) its payload type is in-toto's, and (3) the
//! Statement names the image's manifest digest as a subject. What it says (predicate type,
//! the vulnerability scan summary) is reported only from a statement that passed all three.

use crate::dsse::{verify_in_toto, DsseError, Envelope};
use crate::identity::PinnedImage;
use crate::statement::{Statement, StatementError};
use crate::trust::TrustedCosignKey;
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;

/// cosign's vulnerability scan predicate (`cosign attest --type vuln`).
pub const VULN_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
const IRONROOT_REPORT_SCHEMA: &str = "ironroot.scan/v1";
/// The severities a scan summary counts, worst first.
pub const SEVERITIES: [&str; 6] = ["critical", "high", "medium", "low", "info", "unknown"];

/// Why an attestation does not count. Reports carry it as its text.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationRejection {
    /// The envelope could not be fetched (too large, wrong digest, unreachable blob).
    #[error("{0}")]
    Unreadable(String),
    /// Malformed whatever the key.
    #[error("{0}")]
    Envelope(DsseError),
    #[error("good signature by {signer}, but the statement: {error}")]
    Statement {
        signer: String,
        error: StatementError,
    },
    #[error(
        "good signature by {signer}, but the statement is about {}, not this image's {image}",
        others.join(", ")
    )]
    OtherSubject {
        signer: String,
        others: Vec<String>,
        image: String,
    },
    /// Checked only once a signature verified: the payload type.
    #[error("good signature by {signer}, but {error}")]
    PayloadType { signer: String, error: DsseError },
    #[error("{0} with the trusted key")]
    NotByTheKey(DsseError),
    #[error("not a good attestation by any of the {keys} trusted keys ({last})")]
    NotByAnyKey { keys: usize, last: String },
}

/// The verdict on one attestation found for the image.
#[derive(Debug, Serialize)]
pub struct Found {
    /// Where it was found (`REGISTRY/REPO:sha256-<hex>.att layer N`).
    pub source: String,
    pub verified: bool,
    /// The trusted key whose signature verified.
    pub signer: Option<String>,
    /// Why it does not count; `None` when verified.
    #[serde(serialize_with = "as_text")]
    pub reason: Option<AttestationRejection>,
    /// From the verified statement; else the layer's (unauthenticated) annotation.
    pub predicate_type: Option<String>,
    /// For a verified vulnerability scan record: what it reports.
    pub vuln: Option<VulnSummary>,
}

fn as_text<S: Serializer, T: std::fmt::Display>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct VulnSummary {
    pub scanner_uri: Option<String>,
    pub scanner_version: Option<String>,
    pub scan_finished_on: Option<String>,
    /// Vulnerabilities by severity, when `scanner.result` is an ironroot report.
    pub vulnerabilities: Option<BTreeMap<String, u64>>,
}

#[derive(Debug, Serialize)]
pub struct AttestationReport {
    pub image: String,
    pub digest: String,
    pub verified: bool,
    pub attestations: Vec<Found>,
    pub searched: Vec<String>,
}

/// One layer of the image's `.att` manifest, as fetched (nothing about it verified).
#[derive(Debug, Clone)]
pub struct AttestationLayer {
    pub index: usize,
    /// The envelope, or why it was not fetched.
    pub envelope: Result<Vec<u8>, String>,
    /// The layer's `predicateType` annotation (unauthenticated).
    pub predicate_type_annotation: Option<String>,
}

/// Reads the scan summary from a cosign vuln predicate; counts only for ironroot reports,
/// whose schema is known (another scanner's `result` is reported as not counted).
pub fn vuln_summary(predicate: &Value) -> VulnSummary {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let result = &predicate["scanner"]["result"];
    let vulnerabilities = (result["schema"].as_str() == Some(IRONROOT_REPORT_SCHEMA)).then(|| {
        let mut counts: BTreeMap<String, u64> =
            SEVERITIES.iter().map(|s| ((*s).to_owned(), 0)).collect();
        for v in result["vulnerabilities"].as_array().into_iter().flatten() {
            let severity = v["severity"].as_str().unwrap_or("unknown");
            let key = if SEVERITIES.contains(&severity) {
                severity
            } else {
                "unknown"
            };
            *counts.entry(key.to_owned()).or_default() += 1;
        }
        counts
    });
    VulnSummary {
        scanner_uri: text(&predicate["scanner"]["uri"]),
        scanner_version: text(&predicate["scanner"]["version"]),
        scan_finished_on: text(&predicate["metadata"]["scanFinishedOn"]),
        vulnerabilities,
    }
}

/// One envelope against every trusted key; `Ok` is the signer and the statement.
fn judge(
    image: &PinnedImage,
    keys: &[TrustedCosignKey],
    envelope: &[u8],
) -> Result<(String, Statement), AttestationRejection> {
    // A malformed envelope is malformed whatever the key; say so once.
    Envelope::parse(envelope).map_err(AttestationRejection::Envelope)?;
    let mut last = None;
    for key in keys {
        match verify_in_toto(envelope, &key.key) {
            Ok(bytes) => {
                let signer = key.label.clone();
                let statement = match Statement::parse(&bytes) {
                    Ok(s) => s,
                    Err(error) => return Err(AttestationRejection::Statement { signer, error }),
                };
                if !statement.is_about(image) {
                    return Err(AttestationRejection::OtherSubject {
                        signer,
                        others: statement.other_subjects(image),
                        image: image.digest.to_string(),
                    });
                }
                return Ok((signer, statement));
            }
            Err(e @ DsseError::BadSignature(_)) => last = Some(e),
            Err(error) => {
                return Err(AttestationRejection::PayloadType {
                    signer: key.label.clone(),
                    error,
                })
            }
        }
    }
    match (keys.len(), last) {
        (1, Some(last)) => Err(AttestationRejection::NotByTheKey(last)),
        (keys, last) => Err(AttestationRejection::NotByAnyKey {
            keys,
            last: last.map(|e| e.to_string()).unwrap_or_default(),
        }),
    }
}

fn found(
    source: String,
    layer: &AttestationLayer,
    keys: &[TrustedCosignKey],
    image: &PinnedImage,
) -> Found {
    let outcome = match &layer.envelope {
        Err(e) => Err(AttestationRejection::Unreadable(e.clone())),
        Ok(envelope) => judge(image, keys, envelope),
    };
    match outcome {
        Ok((signer, statement)) => Found {
            source,
            verified: true,
            signer: Some(signer),
            reason: None,
            vuln: (statement.predicate_type == VULN_PREDICATE_TYPE)
                .then(|| vuln_summary(&statement.predicate)),
            predicate_type: Some(statement.predicate_type),
        },
        Err(reason) => Found {
            source,
            verified: false,
            signer: None,
            reason: Some(reason),
            predicate_type: layer.predicate_type_annotation.clone(),
            vuln: None,
        },
    }
}

/// Every attestation layer, judged; the image is verified when one counts.
pub fn verify_attestations(
    image: &PinnedImage,
    keys: &[TrustedCosignKey],
    layers: &[AttestationLayer],
) -> AttestationReport {
    let tag = format!("{}:{}", image.name, image.cosign_attestation_tag());
    let mut searched = Vec::new();
    if layers.is_empty() {
        searched.push(format!("{tag} (no attestations)"));
    }
    let attestations: Vec<Found> = layers
        .iter()
        .map(|layer| {
            found(
                format!("{tag} layer {}", layer.index + 1),
                layer,
                keys,
                image,
            )
        })
        .collect();
    AttestationReport {
        image: image.reference.whole(),
        digest: image.digest.to_string(),
        verified: attestations.iter().any(|a| a.verified),
        attestations,
        searched,
    }
}

#[cfg(test)]
#[path = "attestation_tests.rs"]
mod tests;
