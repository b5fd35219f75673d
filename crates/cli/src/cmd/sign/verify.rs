//! `ironroot verify`: every signature found for an image, checked against every key the
//! user trusts, each with a verdict and, when it fails, the reason.
//!
//! A signature counts only when (1) a trusted key made it, (2) its payload names the
//! image's manifest digest, and (3) its `docker-reference` is for the image's repository
//! under the identity rule (containers/image's `matchRepoDigestOrExact` by default). The
//! image is verified when at least one signature counts; nothing found is a failure.

use super::identity::{check_identity, IdentityRule, PinnedImage};
use super::keys::TrustedCosignKey;
use super::lookaside::Lookaside;
use super::registry::Registry;
use ironroot_signing::openpgp::{verify_message, Keyring};
use ironroot_signing::SimpleSigningPayload;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// cosign's format in the registry (`sha256-<hex>.sig`).
    Cosign,
    /// containers/image simple signing with OpenPGP, in lookaside storage.
    SimpleSigning,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Cosign => "cosign",
            Format::SimpleSigning => "simple-signing",
        }
    }
}

/// The verdict on one signature found for the image.
#[derive(Debug, Serialize)]
pub struct Candidate {
    pub format: Format,
    /// Where it was found.
    pub source: String,
    pub verified: bool,
    /// The trusted key that made it (cosign key file and key id, or OpenPGP fingerprint).
    pub signer: Option<String>,
    /// The `docker-reference` the signer wrote (only once the signature verified).
    pub docker_reference: Option<String>,
    /// Why it does not count; `None` when verified.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub image: String,
    pub digest: String,
    pub verified: bool,
    pub signatures: Vec<Candidate>,
    /// Places that were looked at and held nothing, so an empty list explains itself.
    pub searched: Vec<String>,
}

pub struct Trust<'a> {
    pub cosign: &'a [TrustedCosignKey],
    pub keyring: Option<&'a Keyring>,
    pub rule: IdentityRule,
}

/// Checks the payload's claims once a signature over it verified.
fn check_claims(
    image: &PinnedImage,
    payload: &SimpleSigningPayload,
    rule: IdentityRule,
) -> Result<(), String> {
    if payload.manifest_digest != image.digest {
        return Err(format!(
            "signed for manifest {}, not this image's {}",
            payload.manifest_digest, image.digest
        ));
    }
    check_identity(image, &payload.docker_reference, rule)
}

fn verdict(
    format: Format,
    source: String,
    outcome: Result<(String, String), (Option<String>, String)>,
) -> Candidate {
    match outcome {
        Ok((signer, reference)) => Candidate {
            format,
            source,
            verified: true,
            signer: Some(signer),
            docker_reference: Some(reference),
            reason: None,
        },
        Err((reference, reason)) => Candidate {
            format,
            source,
            verified: false,
            signer: None,
            docker_reference: reference,
            reason: Some(reason),
        },
    }
}

/// One cosign layer against every trusted cosign key.
fn judge_cosign(
    image: &PinnedImage,
    trust: &Trust<'_>,
    payload: &[u8],
    signature_b64: &str,
) -> Result<(String, String), (Option<String>, String)> {
    if trust.cosign.is_empty() {
        return Err((None, "no cosign public key given (--key)".into()));
    }
    let mut last = String::new();
    for key in trust.cosign {
        match key.key.verify_payload(payload, signature_b64) {
            Ok(p) => {
                return match check_claims(image, &p, trust.rule) {
                    Ok(()) => Ok((key.label.clone(), p.docker_reference)),
                    Err(why) => Err((
                        Some(p.docker_reference),
                        format!("good signature by {}, but {why}", key.label),
                    )),
                };
            }
            Err(e) => last = e.to_string(),
        }
    }
    if trust.cosign.len() == 1 {
        Err((None, format!("{last} with the trusted key")))
    } else {
        Err((
            None,
            format!(
                "not a good signature by any of the {} trusted keys",
                trust.cosign.len()
            ),
        ))
    }
}

fn judge_openpgp(
    image: &PinnedImage,
    trust: &Trust<'_>,
    bytes: &[u8],
) -> Result<(String, String), (Option<String>, String)> {
    let Some(keyring) = trust.keyring else {
        return Err((None, "no OpenPGP keyring given (--gpg-keyring)".into()));
    };
    let message = verify_message(bytes, keyring).map_err(|e| (None, e.to_string()))?;
    let signer = format!("OpenPGP key {}", message.signer_fingerprint_hex());
    let payload =
        SimpleSigningPayload::parse(&message.payload, ironroot_signing::PayloadType::Atomic)
            .map_err(|e| (None, format!("good signature by {signer}, but {e}")))?;
    match check_claims(image, &payload, trust.rule) {
        Ok(()) => Ok((signer, payload.docker_reference)),
        Err(why) => Err((
            Some(payload.docker_reference),
            format!("good signature by {signer}, but {why}"),
        )),
    }
}

pub async fn verify(
    image: &PinnedImage,
    trust: &Trust<'_>,
    registry: Option<&Registry>,
    lookaside: Option<&Lookaside>,
    lookaside_text: Option<&str>,
) -> anyhow::Result<Report> {
    let mut signatures = Vec::new();
    let mut searched = Vec::new();
    if let Some(registry) = registry {
        let found = registry.signatures(image).await?;
        let tag = format!("{}:{}", image.name, image.cosign_signature_tag());
        if found.is_empty() {
            searched.push(format!("{tag} (no cosign signatures)"));
        }
        for sig in found {
            let source = format!("{tag} layer {}", sig.index + 1);
            let outcome = match (&sig.payload, &sig.signature_b64) {
                (Err(e), _) => Err((None, e.clone())),
                (Ok(_), None) => Err((
                    None,
                    format!(
                        "layer ({}) has no {} annotation",
                        sig.media_type,
                        ironroot_signing::cosign::SIGNATURE_ANNOTATION
                    ),
                )),
                (Ok(p), Some(s)) => judge_cosign(image, trust, p, s),
            };
            signatures.push(verdict(Format::Cosign, source, outcome));
        }
    }
    if let Some(lookaside) = lookaside {
        let found = lookaside.read_all(image).await?;
        if found.is_empty() {
            searched.push(format!(
                "{} (no simple signatures for {}@{})",
                lookaside_text.unwrap_or_default(),
                image.repository(),
                image.digest.as_str().replacen(':', "=", 1)
            ));
        }
        for sig in found {
            let outcome = match &sig.bytes {
                Err(e) => Err((None, e.clone())),
                Ok(b) => judge_openpgp(image, trust, b),
            };
            signatures.push(verdict(Format::SimpleSigning, sig.location, outcome));
        }
    }
    Ok(Report {
        image: image.reference.whole(),
        digest: image.digest.to_string(),
        verified: signatures.iter().any(|c| c.verified),
        signatures,
        searched,
    })
}

pub fn render_table(report: &Report) -> String {
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
                .or_else(|| c.reason.clone())
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
