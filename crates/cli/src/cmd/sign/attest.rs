//! `ironroot sign attest`: an in-toto Statement about an image, signed in a DSSE envelope
//! with a cosign key and attached as cosign attaches attestations (the `sha256-<hex>.att`
//! tag); and the Statement checks that signing and verifying share.
//!
//! A statement is signed only when every subject it names is the image's manifest digest,
//! so that an attestation about one image can never be attached to another.

use super::identity::PinnedImage;
use super::{keys, print_result, registry};
use crate::cmd::Output;
use anyhow::{bail, Context};
use ironroot_signing::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, MAX_ENVELOPE_LEN};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// The envelope's base64 grows the statement by a third; keep it within what is read back.
const MAX_STATEMENT_LEN: u64 = (MAX_ENVELOPE_LEN as u64 / 4) * 3 - 4096;

/// Sign an in-toto statement about an image and attach it as a cosign attestation
///
/// Reads an in-toto Statement (for instance the vulnerability scan record that
/// `ironroot scan --format cosign-vuln` writes), refuses it unless its subject is the
/// image's manifest digest, signs it in a DSSE envelope with the cosign key (ECDSA P-256
/// over the DSSE pre-authentication encoding, payload type application/vnd.in-toto+json)
/// and appends the envelope to the `sha256-<hex>.att` tag next to the image, as
/// `cosign attest` does: layer media type application/vnd.dsse.envelope.v1+json,
/// annotation predicateType. `cosign verify-attestation --key cosign.pub` and
/// `ironroot verify --attestations` check it.
///
/// The key's password comes from --password-file or $COSIGN_PASSWORD.
///
/// Examples:
///
///   ironroot scan docker://registry.example/app@sha256:3f...e1 \
///       --format cosign-vuln -o scan.intoto.json
///   ironroot sign attest registry.example/app@sha256:3f...e1 \
///       --key cosign.key --statement scan.intoto.json --password-file pw.txt
///   ironroot verify registry.example/app@sha256:3f...e1 --key cosign.pub --attestations
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct AttestArgs {
    /// The image, pinned by digest: REGISTRY/REPOSITORY[:TAG]@sha256:HEX.
    image: String,
    /// cosign private key to sign the envelope with.
    #[arg(long, value_name = "COSIGN_KEY")]
    key: PathBuf,
    /// The in-toto Statement (JSON) to sign; its subject must be the image's digest.
    #[arg(long, value_name = "FILE")]
    statement: PathBuf,
    /// File whose first line is the cosign key's password (else $COSIGN_PASSWORD).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// Talk plain HTTP to the image's registry (loopback test registries only).
    #[arg(long)]
    plain_http: bool,
}

/// What ironroot reads from an in-toto Statement (v0.1 or v1).
#[derive(Debug)]
pub struct Statement {
    pub predicate_type: String,
    /// The subjects' sha256 digests, lowercase hex.
    pub subject_sha256: Vec<String>,
    pub predicate: Value,
}

impl Statement {
    pub fn parse(bytes: &[u8]) -> Result<Statement, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
        let kind = v["_type"].as_str().unwrap_or_default();
        if !kind.starts_with("https://in-toto.io/Statement/") {
            return Err(format!("_type {kind:?} is not an in-toto Statement"));
        }
        let predicate_type = match v["predicateType"].as_str() {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => return Err("no predicateType".into()),
        };
        let subjects = v["subject"].as_array().cloned().unwrap_or_default();
        if subjects.is_empty() {
            return Err("no subject".into());
        }
        let mut subject_sha256 = Vec::new();
        for s in &subjects {
            match s["digest"]["sha256"].as_str() {
                Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    subject_sha256.push(h.to_ascii_lowercase());
                }
                _ => return Err("a subject has no sha256 digest".into()),
            }
        }
        Ok(Statement {
            predicate_type,
            subject_sha256,
            predicate: v["predicate"].clone(),
        })
    }

    /// Whether the image is one of the statement's subjects.
    pub fn is_about(&self, image: &PinnedImage) -> bool {
        let hex = image_hex(image);
        self.subject_sha256.contains(&hex)
    }

    /// The subjects that are not the image, as `sha256:<hex>`.
    pub fn other_subjects(&self, image: &PinnedImage) -> Vec<String> {
        let hex = image_hex(image);
        self.subject_sha256
            .iter()
            .filter(|s| **s != hex)
            .map(|s| format!("sha256:{s}"))
            .collect()
    }
}

fn image_hex(image: &PinnedImage) -> String {
    image
        .digest
        .as_str()
        .trim_start_matches("sha256:")
        .to_ascii_lowercase()
}

pub async fn attest(a: AttestArgs, out: Output) -> anyhow::Result<ExitCode> {
    let image = PinnedImage::parse(&a.image)?;
    let bytes = keys::read_limited(&a.statement, MAX_STATEMENT_LEN)?;
    let statement = Statement::parse(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", a.statement.display()))?;
    let others = statement.other_subjects(&image);
    if !others.is_empty() {
        bail!(
            "{} is about {}, not {}'s manifest {}; refusing to attach it",
            a.statement.display(),
            others.join(", "),
            image.name,
            image.digest
        );
    }
    let password = keys::Password::from_file_or_env(a.password_file.as_deref())?;
    let key = keys::load_cosign_private(&a.key, &password)?;
    let reg = registry::Registry::new(&image.reference, a.plain_http)?;
    reg.check_image(&image).await?;
    // The file's exact bytes are signed: what the scanner wrote is what is verified.
    let envelope = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &bytes)?.to_json()?;
    let stored = reg
        .push_attestation(&image, &envelope, &statement.predicate_type)
        .await?;
    let json = serde_json::json!({
        "image": image.reference.whole(),
        "stored": stored,
        "predicate_type": statement.predicate_type,
    });
    print_result(&json, out);
    Ok(ExitCode::SUCCESS)
}
