//! `ironroot verify`: fetches every signature stored for an image (the registry's
//! `sha256-<hex>.sig` tag, lookaside storage) and prints the verdicts that
//! `ironroot_signing::verify_signatures` reaches on them.

use ironroot_oci::lookaside::Lookaside;
use ironroot_oci::registry::Registry;
use ironroot_signing::verdict::{CosignLayer, LookasideSignature};
use ironroot_signing::{verify_signatures, PinnedImage, SignatureEvidence, SignatureReport, Trust};

pub async fn verify(
    image: &PinnedImage,
    trust: &Trust<'_>,
    registry: Option<&Registry>,
    lookaside: Option<&Lookaside>,
    lookaside_text: Option<&str>,
) -> anyhow::Result<SignatureReport> {
    let mut evidence = SignatureEvidence::default();
    if let Some(registry) = registry {
        let found = registry.signatures(image).await?;
        evidence.cosign = Some(
            found
                .into_iter()
                .map(|s| CosignLayer {
                    index: s.index,
                    media_type: s.media_type,
                    payload: s.payload,
                    signature_b64: s.signature_b64,
                })
                .collect(),
        );
    }
    if let Some(lookaside) = lookaside {
        let found = lookaside.read_all(image).await?;
        evidence.lookaside = Some((
            lookaside_text.unwrap_or_default().to_owned(),
            found
                .into_iter()
                .map(|s| LookasideSignature {
                    location: s.location,
                    bytes: s.bytes,
                })
                .collect(),
        ));
    }
    Ok(verify_signatures(image, trust, &evidence))
}

pub fn render_table(report: &SignatureReport) -> String {
    let mut out = format!(
        "{} {}\n",
        report.image,
        if report.verified {
            "VERIFIED"
        } else {
            "NOT VERIFIED"
        }
    );
    let mut table = crate::cmd::Table::new(&[
        "FORMAT",
        "RESULT",
        "SIGNER / REASON",
        "SIGNED REFERENCE",
        "SOURCE",
    ]);
    for c in &report.signatures {
        table.row(vec![
            c.format.as_str().into(),
            if c.verified { "verified" } else { "rejected" }.into(),
            c.signer
                .clone()
                .or_else(|| c.reason.as_ref().map(ToString::to_string))
                .unwrap_or_default(),
            c.docker_reference.clone().unwrap_or_else(|| "-".into()),
            c.source.clone(),
        ]);
    }
    if !report.signatures.is_empty() {
        out.push_str(&table.render());
        out.push('\n');
    }
    for s in &report.searched {
        out.push_str(&format!("searched: {s}\n"));
    }
    if !report.verified && report.signatures.is_empty() {
        out.push_str("no signature found\n");
    }
    out
}
