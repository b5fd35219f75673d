//! `ironroot verify --attestations`: fetches every DSSE envelope in the image's
//! `sha256-<hex>.att` tag and prints the verdicts that
//! `ironroot_signing::verify_attestations` reaches on them.

use crate::cmd::{Output, EXIT_UNTRUSTED};
use ironroot_oci::registry::{Attachment, Registry};
use ironroot_signing::attestation::{AttestationLayer, SEVERITIES};
use ironroot_signing::dsse::PREDICATE_TYPE_ANNOTATION;
use ironroot_signing::{verify_attestations, AttestationReport, PinnedImage, TrustedCosignKey};
use serde_json::Value;
use std::process::ExitCode;

async fn fetch(image: &PinnedImage, registry: &Registry) -> anyhow::Result<Vec<AttestationLayer>> {
    let layers = registry.layers(image, Attachment::Attestations).await?;
    Ok(layers
        .into_iter()
        .map(|layer| AttestationLayer {
            index: layer.index,
            predicate_type_annotation: layer
                .annotations
                .get(PREDICATE_TYPE_ANNOTATION)
                .and_then(Value::as_str)
                .map(str::to_owned),
            envelope: layer.blob,
        })
        .collect())
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
    let layers = fetch(image, &registry).await?;
    let report = verify_attestations(image, keys, &layers);
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

pub fn render_table(report: &AttestationReport) -> String {
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
                .or_else(|| a.reason.as_ref().map(ToString::to_string))
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
