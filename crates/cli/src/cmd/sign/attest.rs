//! `ironroot sign attest`: an in-toto Statement about an image, signed in a DSSE envelope
//! with a cosign key and attached as cosign attaches attestations (the `sha256-<hex>.att`
//! tag). The Statement checks that signing and verifying share are
//! `ironroot_signing::statement`'s.
//!
//! A statement is signed only when every subject it names is the image's manifest digest,
//! so that an attestation about one image can never be attached to another.

use super::{keys, print_result};
use crate::cmd::Output;
use anyhow::{bail, Context};
use ironroot_oci::registry;
use ironroot_signing::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use ironroot_signing::statement::MAX_STATEMENT_LEN;
use ironroot_signing::{PinnedImage, Statement};
use std::path::PathBuf;
use std::process::ExitCode;

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

pub async fn attest(a: AttestArgs, out: Output) -> anyhow::Result<ExitCode> {
    let image = PinnedImage::parse(&a.image)?;
    let bytes = keys::read_limited(&a.statement, MAX_STATEMENT_LEN)?;
    let statement =
        Statement::parse(&bytes).with_context(|| format!("{}", a.statement.display()))?;
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
