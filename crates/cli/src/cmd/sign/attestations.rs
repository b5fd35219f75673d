//! `ironroot verify --attestations`: every DSSE envelope in the image's `sha256-<hex>.att`
//! tag, checked against every trusted cosign key, each with a verdict or the reason why not.
//!
//! An attestation counts only when (1) a signature in its envelope verifies under a
//! trusted key over the DSSE encoding, (2) its payload type is in-toto's, and (3) the
//! Statement names the image's manifest digest as a subject. What it says (predicate type,
//! the vulnerability scan summary) is reported only from a statement that passed all three.

use super::attest::Statement;
use super::identity::PinnedImage;
use super::keys::TrustedCosignKey;
use super::registry::{Attachment, Registry};
use crate::cmd::{Output, EXIT_UNTRUSTED};
use ironroot_signing::dsse::{verify_in_toto, DsseError, Envelope};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// cosign's vulnerability scan predicate (`cosign attest --type vuln`).
pub const VULN_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
const IRONROOT_REPORT_SCHEMA: &str = "ironroot.scan/v1";
const SEVERITIES: [&str; 6] = ["critical", "high", "medium", "low", "info", "unknown"];

/// The verdict on one attestation found for the image.
#[derive(Debug, Serialize)]
pub struct Found {
    /// Where it was found (`REGISTRY/REPO:sha256-<hex>.att layer N`).
    pub source: String,
    pub verified: bool,
    /// The trusted key whose signature verified.
    pub signer: Option<String>,
    /// Why it does not count; `None` when verified.
    pub reason: Option<String>,
    /// From the verified statement; else the layer's (unauthenticated) annotation.
    pub predicate_type: Option<String>,
    /// For a verified vulnerability scan record: what it reports.
    pub vuln: Option<VulnSummary>,
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
pub struct Report {
    pub image: String,
    pub digest: String,
    pub verified: bool,
    pub attestations: Vec<Found>,
    pub searched: Vec<String>,
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
) -> Result<(String, Statement), String> {
    // A malformed envelope is malformed whatever the key; say so once.
    Envelope::parse(envelope).map_err(|e| e.to_string())?;
    let mut last = String::new();
    for key in keys {
        match verify_in_toto(envelope, &key.key) {
            Ok(bytes) => {
                let signer = key.label.clone();
                let statement = Statement::parse(&bytes)
                    .map_err(|e| format!("good signature by {signer}, but the statement: {e}"))?;
                if !statement.is_about(image) {
                    return Err(format!(
                        "good signature by {signer}, but the statement is about {}, not this \
                         image's {}",
                        statement.other_subjects(image).join(", "),
                        image.digest
                    ));
                }
                return Ok((signer, statement));
            }
            Err(e @ DsseError::BadSignature(_)) => last = e.to_string(),
            // Only checked once a signature verified: the payload type.
            Err(e) => return Err(format!("good signature by {}, but {e}", key.label)),
        }
    }
    if keys.len() == 1 {
        Err(format!("{last} with the trusted key"))
    } else {
        Err(format!(
            "not a good attestation by any of the {} trusted keys ({last})",
            keys.len()
        ))
    }
}

pub async fn verify(
    image: &PinnedImage,
    keys: &[TrustedCosignKey],
    registry: &Registry,
) -> anyhow::Result<Report> {
    let tag = format!("{}:{}", image.name, Attachment::Attestations.tag(image));
    let layers = registry.layers(image, Attachment::Attestations).await?;
    let mut searched = Vec::new();
    if layers.is_empty() {
        searched.push(format!("{tag} (no attestations)"));
    }
    let mut attestations = Vec::new();
    for layer in layers {
        let source = format!("{tag} layer {}", layer.index + 1);
        let claimed = layer
            .annotations
            .get(ironroot_signing::dsse::PREDICATE_TYPE_ANNOTATION)
            .and_then(Value::as_str)
            .map(str::to_owned);
        let outcome = match &layer.blob {
            Err(e) => Err(e.clone()),
            Ok(envelope) => judge(image, keys, envelope),
        };
        attestations.push(match outcome {
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
                predicate_type: claimed,
                vuln: None,
            },
        });
    }
    Ok(Report {
        image: image.reference.whole(),
        digest: image.digest.to_string(),
        verified: attestations.iter().any(|a| a.verified),
        attestations,
        searched,
    })
}

/// `verify --attestations`: the report, printed; exit 0 when one attestation counts, else 2.
pub async fn run(
    image: &PinnedImage,
    keys: &[TrustedCosignKey],
    plain_http: bool,
    out: Output,
) -> anyhow::Result<ExitCode> {
    if keys.is_empty() {
        anyhow::bail!("--attestations needs a trusted cosign public key (--key COSIGN_PUB)");
    }
    let registry = Registry::new(&image.reference, plain_http)?;
    let report = verify(image, keys, &registry).await?;
    match out {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", render_table(&report)),
    }
    Ok(if report.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNTRUSTED)
    })
}

pub fn render_table(report: &Report) -> String {
    let mut out = format!(
        "{} {}\n",
        report.image,
        if report.verified {
            "ATTESTATION VERIFIED"
        } else {
            "NO VERIFIED ATTESTATION"
        }
    );
    let mut table =
        crate::cmd::Table::new(&["RESULT", "PREDICATE TYPE", "SIGNER / REASON", "SOURCE"]);
    for a in &report.attestations {
        table.row(vec![
            if a.verified { "verified" } else { "rejected" }.into(),
            a.predicate_type.clone().unwrap_or_else(|| "-".into()),
            a.signer
                .clone()
                .or_else(|| a.reason.clone())
                .unwrap_or_default(),
            a.source.clone(),
        ]);
    }
    if !report.attestations.is_empty() {
        out.push_str(&table.render());
        out.push('\n');
    }
    for (a, v) in report
        .attestations
        .iter()
        .filter_map(|a| a.vuln.as_ref().map(|v| (a, v)))
    {
        out.push_str(&format!(
            "{}: scanner {} {}, finished {}",
            a.source,
            v.scanner_uri.as_deref().unwrap_or("-"),
            v.scanner_version.as_deref().unwrap_or("-"),
            v.scan_finished_on.as_deref().unwrap_or("-"),
        ));
        match &v.vulnerabilities {
            Some(c) => {
                let counts: Vec<String> = SEVERITIES
                    .iter()
                    .map(|s| format!("{s} {}", c.get(*s).copied().unwrap_or(0)))
                    .collect();
                out.push_str(&format!(", vulnerabilities: {}\n", counts.join(", ")));
            }
            None => out.push_str(", vulnerabilities: not counted (not an ironroot report)\n"),
        }
    }
    for s in &report.searched {
        out.push_str(&format!("searched: {s}\n"));
    }
    if report.attestations.is_empty() {
        out.push_str("no attestation found\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn vuln_summary_counts_ironroot_reports_by_severity() {
        let predicate = serde_json::json!({
            "scanner": {"uri": "u", "version": "1", "result": {"schema": IRONROOT_REPORT_SCHEMA,
                "vulnerabilities": [{"severity": "high"}, {"severity": "high"},
                                    {"severity": "low"}, {"severity": "bogus"}]}},
            "metadata": {"scanFinishedOn": "2026-01-01T00:00:00Z"}});
        let s = vuln_summary(&predicate);
        let c = s.vulnerabilities.unwrap();
        assert_eq!(
            (c["high"], c["low"], c["unknown"], c["critical"]),
            (2, 1, 1, 0)
        );
        assert_eq!(s.scan_finished_on.as_deref(), Some("2026-01-01T00:00:00Z"));
        let other = serde_json::json!({"scanner": {"result": {"Results": []}}});
        assert_eq!(vuln_summary(&other).vulnerabilities, None);
    }
}
