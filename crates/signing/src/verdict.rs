//! Signature verdicts: every signature found for an image, checked against every key the
//! verifier trusts, each with a verdict and, when it fails, the reason.
//!
//! A signature counts only when (1) a trusted key made it, (2) its payload names the
//! image's manifest digest, and (3) its `docker-reference` is for the image's repository
//! under the identity rule (containers/image's `matchRepoDigestOrExact` by default). The
//! image is verified when at least one signature counts; nothing found is a failure.
//!
//! The evidence comes in as bytes already fetched (from the registry's `.sig` tag and
//! from lookaside storage), with the reason for whatever could not be fetched; the caller
//! fetches, this module only decides.

use crate::cosign::{CosignError, SIGNATURE_ANNOTATION};
use crate::identity::{check_identity, IdentityMismatch, IdentityRule, PinnedImage};
use crate::openpgp::{verify_message, OpenPgpError};
use crate::payload::{ManifestDigest, PayloadError, PayloadType, SimpleSigningPayload};
use crate::trust::Trust;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// cosign's format in the registry (`sha256-<hex>.sig`).
    Cosign,
    /// containers/image simple signing with OpenPGP, in lookaside storage.
    SimpleSigning,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Cosign => "cosign",
            Format::SimpleSigning => "simple-signing",
        }
    }
}

/// What a good signature's payload claims that does not fit the image.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimMismatch {
    #[error("signed for manifest {signed}, not this image's {image}")]
    OtherManifest {
        signed: ManifestDigest,
        image: ManifestDigest,
    },
    #[error(transparent)]
    Identity(#[from] IdentityMismatch),
}

/// Why a signature does not count. Reports carry it as its text.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The signature could not be fetched (too large, wrong digest, unreachable blob).
    #[error("{0}")]
    Unreadable(String),
    #[error("layer ({media_type}) has no {SIGNATURE_ANNOTATION} annotation")]
    NoSignatureAnnotation { media_type: String },
    #[error("no cosign public key given (--key)")]
    NoCosignKey,
    #[error("no OpenPGP keyring given (--gpg-keyring)")]
    NoKeyring,
    /// The one trusted cosign key did not verify it.
    #[error("{0} with the trusted key")]
    NotByTheKey(CosignError),
    #[error("not a good signature by any of the {0} trusted keys")]
    NotByAnyKey(usize),
    #[error("{0}")]
    OpenPgp(OpenPgpError),
    #[error("good signature by {signer}, but {error}")]
    BadPayload { signer: String, error: PayloadError },
    #[error("good signature by {signer}, but {mismatch}")]
    Claims {
        signer: String,
        mismatch: ClaimMismatch,
    },
}

fn as_text<S: Serializer, T: std::fmt::Display>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
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
    #[serde(serialize_with = "as_text")]
    pub reason: Option<Rejection>,
}

#[derive(Debug, Serialize)]
pub struct SignatureReport {
    pub image: String,
    pub digest: String,
    pub verified: bool,
    pub signatures: Vec<Candidate>,
    /// Places that were looked at and held nothing, so an empty list explains itself.
    pub searched: Vec<String>,
}

/// One layer of the image's `.sig` manifest, as fetched (nothing about it verified).
#[derive(Debug, Clone)]
pub struct CosignLayer {
    pub index: usize,
    pub media_type: String,
    /// The payload, or why it was not fetched.
    pub payload: Result<Vec<u8>, String>,
    /// The `dev.cosignproject.cosign/signature` annotation.
    pub signature_b64: Option<String>,
}

/// One signature file from lookaside storage, as fetched.
#[derive(Debug, Clone)]
pub struct LookasideSignature {
    pub location: String,
    /// The file, or why it was not read.
    pub bytes: Result<Vec<u8>, String>,
}

/// What was fetched for an image. `None` where that place was not asked.
#[derive(Debug, Clone, Default)]
pub struct SignatureEvidence {
    /// Every layer of the `.sig` manifest (empty when the tag does not exist).
    pub cosign: Option<Vec<CosignLayer>>,
    /// The lookaside storage as the user named it, and every signature found there.
    pub lookaside: Option<(String, Vec<LookasideSignature>)>,
}

type Outcome = Result<(String, String), (Option<String>, Rejection)>;

/// Checks the payload's claims once a signature over it verified.
fn check_claims(
    image: &PinnedImage,
    payload: &SimpleSigningPayload,
    rule: IdentityRule,
) -> Result<(), ClaimMismatch> {
    if payload.manifest_digest != image.digest {
        return Err(ClaimMismatch::OtherManifest {
            signed: payload.manifest_digest.clone(),
            image: image.digest.clone(),
        });
    }
    Ok(check_identity(image, &payload.docker_reference, rule)?)
}

fn claims_outcome(
    image: &PinnedImage,
    signer: String,
    payload: SimpleSigningPayload,
    rule: IdentityRule,
) -> Outcome {
    match check_claims(image, &payload, rule) {
        Ok(()) => Ok((signer, payload.docker_reference)),
        Err(mismatch) => Err((
            Some(payload.docker_reference),
            Rejection::Claims { signer, mismatch },
        )),
    }
}

fn candidate(format: Format, source: String, outcome: Outcome) -> Candidate {
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
fn judge_cosign(image: &PinnedImage, trust: &Trust<'_>, layer: &CosignLayer) -> Outcome {
    let payload = match &layer.payload {
        Err(e) => return Err((None, Rejection::Unreadable(e.clone()))),
        Ok(p) => p,
    };
    let Some(signature_b64) = &layer.signature_b64 else {
        return Err((
            None,
            Rejection::NoSignatureAnnotation {
                media_type: layer.media_type.clone(),
            },
        ));
    };
    if trust.cosign.is_empty() {
        return Err((None, Rejection::NoCosignKey));
    }
    // Replaced by the first key's error: there is at least one key.
    let mut last = CosignError::BadSignature;
    for key in trust.cosign {
        match key.key.verify_payload(payload, signature_b64) {
            Ok(p) => return claims_outcome(image, key.label.clone(), p, trust.rule),
            Err(e) => last = e,
        }
    }
    if trust.cosign.len() == 1 {
        Err((None, Rejection::NotByTheKey(last)))
    } else {
        Err((None, Rejection::NotByAnyKey(trust.cosign.len())))
    }
}

/// One simple signature against the trusted keyring.
fn judge_openpgp(image: &PinnedImage, trust: &Trust<'_>, found: &LookasideSignature) -> Outcome {
    let bytes = match &found.bytes {
        Err(e) => return Err((None, Rejection::Unreadable(e.clone()))),
        Ok(b) => b,
    };
    let Some(keyring) = trust.keyring else {
        return Err((None, Rejection::NoKeyring));
    };
    let message = verify_message(bytes, keyring).map_err(|e| (None, Rejection::OpenPgp(e)))?;
    let signer = format!("OpenPGP key {}", message.signer_fingerprint_hex());
    match SimpleSigningPayload::parse(&message.payload, PayloadType::Atomic) {
        Ok(payload) => claims_outcome(image, signer, payload, trust.rule),
        Err(error) => Err((None, Rejection::BadPayload { signer, error })),
    }
}

/// Every signature in the evidence, judged; the image is verified when one counts.
pub fn verify_signatures(
    image: &PinnedImage,
    trust: &Trust<'_>,
    evidence: &SignatureEvidence,
) -> SignatureReport {
    let mut signatures = Vec::new();
    let mut searched = Vec::new();
    if let Some(layers) = &evidence.cosign {
        let tag = format!("{}:{}", image.name, image.cosign_signature_tag());
        if layers.is_empty() {
            searched.push(format!("{tag} (no cosign signatures)"));
        }
        for layer in layers {
            let source = format!("{tag} layer {}", layer.index + 1);
            let outcome = judge_cosign(image, trust, layer);
            signatures.push(candidate(Format::Cosign, source, outcome));
        }
    }
    if let Some((storage, found)) = &evidence.lookaside {
        if found.is_empty() {
            searched.push(format!(
                "{storage} (no simple signatures for {}@{})",
                image.repository(),
                image.digest.as_str().replacen(':', "=", 1)
            ));
        }
        for sig in found {
            let outcome = judge_openpgp(image, trust, sig);
            signatures.push(candidate(
                Format::SimpleSigning,
                sig.location.clone(),
                outcome,
            ));
        }
    }
    SignatureReport {
        image: image.reference.whole(),
        digest: image.digest.to_string(),
        verified: signatures.iter().any(|c| c.verified),
        signatures,
        searched,
    }
}

#[cfg(test)]
#[path = "verdict_tests.rs"]
mod tests;
