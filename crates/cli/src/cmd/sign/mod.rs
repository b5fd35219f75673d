//! `ironroot sign` and `ironroot verify`: image signatures in the two formats the container
//! tools check, made and verified by ironroot and interchangeable with skopeo, podman,
//! cri-o and cosign (the formats themselves live in `ironroot-signing`).
//!
//! * cosign: ECDSA P-256, payload and signature in the registry under `sha256-<hex>.sig`
//!   (policy.json `sigstoreSigned`).
//! * containers' simple signing: OpenPGP, signature files in lookaside storage
//!   (policy.json `signedBy`, `skopeo copy --sign-by`).
//! * cosign attestations: in-toto Statements in DSSE envelopes under `sha256-<hex>.att`
//!   (`sign attest`, `verify --attestations`).
//!
//! Only images pinned by digest are signed or verified: a signature vouches for one
//! manifest digest, and a tag can move.

mod attest;
mod attestations;
mod keys;
pub(crate) use keys::write_new;
mod verify;

use super::{Output, EXIT_ERROR, EXIT_UNTRUSTED};
use anyhow::bail;
use ironroot_oci::{lookaside, registry};
use ironroot_signing::{IdentityRule, PayloadType, PinnedImage, SimpleSigningPayload, Trust};
use std::path::PathBuf;
use std::process::ExitCode;

/// Sign an image pinned by digest, or make signing keys
///
/// Signs in cosign's format (`--key cosign.key`: pushes the payload and its ECDSA P-256
/// signature to the `sha256-<hex>.sig` tag next to the image) and/or in containers' simple
/// signing format (`--gpg-key FILE --lookaside DIR`: writes
/// `DIR/<repository>@sha256=<hex>/signature-N`). skopeo, podman and cri-o accept them with
/// policy.json `sigstoreSigned` and `signedBy` requirements.
///
/// The payload's docker-reference is `REGISTRY/REPOSITORY:TAG` when the image is given with
/// a tag, else `REGISTRY/REPOSITORY@sha256:HEX`, which containers/image's default identity
/// rule (matchRepoDigestOrExact) accepts when the image is pulled by digest.
///
/// The cosign key's password comes from --password-file or $COSIGN_PASSWORD, never from
/// the command line.
///
/// Examples:
///
///   ironroot sign keygen                                   # cosign.key, cosign.pub
///
///   COSIGN_PASSWORD=... ironroot sign --key cosign.key \
///       registry.example/app@sha256:3f...e1
///
///   ironroot sign keygen --format gpg --user-id 'Release <rel@example.com>'
///
///   ironroot sign attest registry.example/app@sha256:3f...e1 \
///       --key cosign.key --statement scan.intoto.json
///
///   ironroot sign --gpg-key signing-gpg.key --lookaside /srv/sigstore \
///       registry.example/app:1.4@sha256:3f...e1
///
/// What skopeo, podman and cri-o then need: in containers-registries.d(5), for the
/// registry, `use-sigstore-attachments: true` (cosign) and `lookaside: URL` serving the
/// lookaside directory (simple signing); in policy.json, for the repository,
///   {"type": "sigstoreSigned", "keyPath": "/etc/pki/cosign.pub"}
///   {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/etc/pki/signing-gpg.pub.gpg"}
#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    verbatim_doc_comment
)]
pub struct SignCmd {
    #[command(subcommand)]
    command: Option<SignSub>,
    #[command(flatten)]
    image: SignImageArgs,
}

#[derive(clap::Subcommand)]
enum SignSub {
    /// Generate a signing key pair (cosign, or OpenPGP for simple signing)
    ///
    /// cosign (default): PREFIX.key, the private key in cosign's encrypted format
    /// (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt + secretbox, mode 0600), and PREFIX.pub.
    /// cosign, skopeo (`--sign-by-sigstore-private-key`) and policy.json `sigstoreSigned`
    /// read them. The password comes from --password-file or $COSIGN_PASSWORD (set it
    /// empty to choose no password).
    ///
    /// gpg: an Ed25519 OpenPGP key. PREFIX.key is ironroot's own private key file (mode
    /// 0600; gpg cannot use it); PREFIX.pub.gpg and PREFIX.pub.asc are the public key as
    /// `gpg --export` writes it, for policy.json `signedBy` (`keyPath`) and `gpg --import`.
    ///
    /// Examples:
    ///
    ///   ironroot sign keygen --password-file pw.txt
    ///   ironroot sign keygen --format gpg --user-id 'Release <rel@example.com>' \
    ///       --output-key-prefix release
    #[command(verbatim_doc_comment)]
    Keygen(KeygenArgs),
    Attest(attest::AttestArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum KeyFormat {
    Cosign,
    Gpg,
}

#[derive(clap::Args)]
struct KeygenArgs {
    #[arg(long, value_enum, default_value_t = KeyFormat::Cosign)]
    format: KeyFormat,
    /// Path prefix of the files written [default: cosign, or signing-gpg with --format gpg].
    #[arg(long)]
    output_key_prefix: Option<String>,
    /// File whose first line is the private key's password (cosign format).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// The OpenPGP user ID, e.g. 'Release <rel@example.com>' (gpg format).
    #[arg(long)]
    user_id: Option<String>,
}

#[derive(clap::Args)]
struct SignImageArgs {
    /// The image, pinned by digest: REGISTRY/REPOSITORY[:TAG]@sha256:HEX.
    #[arg(required = true)]
    image: Option<String>,
    /// cosign private key: sign in cosign's format, pushed to the registry.
    #[arg(long, value_name = "COSIGN_KEY")]
    key: Option<PathBuf>,
    /// File whose first line is the cosign key's password (else $COSIGN_PASSWORD).
    #[arg(long)]
    password_file: Option<PathBuf>,
    /// ironroot OpenPGP private key (`sign keygen --format gpg`): sign in simple-signing format.
    #[arg(long, requires = "lookaside")]
    gpg_key: Option<PathBuf>,
    /// Lookaside storage for simple signatures: a directory or file:// URL (the
    /// `lookaside-staging` of containers-registries.d(5)).
    #[arg(long)]
    lookaside: Option<String>,
    /// Talk plain HTTP to the image's registry (loopback test registries only).
    #[arg(long)]
    plain_http: bool,
}

/// Verify that an image pinned by digest is signed by a key you trust
///
/// Looks for cosign signatures in the registry (the `sha256-<hex>.sig` tag) and, with
/// --lookaside, for containers' simple signatures (OpenPGP) in lookaside storage, and
/// checks each against the given keys. A signature counts only if a trusted key made it,
/// its payload names this image's manifest digest, and its docker-reference is for this
/// repository (containers/image's default rule, matchRepoDigestOrExact: with a digest,
/// any tag or digest of the same repository; with IMAGE:TAG@DIGEST, exactly that tag).
/// The report names each signature's format, signer (cosign key file and key id, or the
/// OpenPGP fingerprint), signed reference, or why it was rejected.
///
/// With --attestations, checks the cosign attestations (`sha256-<hex>.att`, DSSE
/// envelopes, as `ironroot sign attest` and `cosign attest` write them) instead: each is
/// listed as verified or why not, with its predicate type and, for a vulnerability scan
/// record (https://cosign.sigstore.dev/attestation/vuln/v1), the scanner, when the scan
/// finished and, for an ironroot report, the vulnerabilities by severity. An attestation
/// counts when a trusted key signed it and its statement's subject is this image.
///
/// Exit codes: 0 verified by at least one trusted signature (with --attestations: one
/// attestation); 2 no valid signature or attestation (each rejected one is listed with the
/// reason); 1 error (bad arguments, unreadable key, registry unreachable).
///
/// Examples:
///
///   ironroot verify registry.example/app@sha256:3f...e1 --key cosign.pub
///
///   ironroot verify registry.example/app@sha256:3f...e1 \
///       --gpg-keyring release.pub.gpg --lookaside https://sigs.example/sigstore
///
///   ironroot verify --output json registry.example/app@sha256:3f...e1 \
///       --key cosign.pub --gpg-keyring keys.gpg --lookaside /srv/sigstore
///
///   ironroot verify registry.example/app@sha256:3f...e1 --key cosign.pub --attestations
#[derive(clap::Args)]
#[command(verbatim_doc_comment)]
pub struct VerifyArgs {
    /// The image, pinned by digest: REGISTRY/REPOSITORY[:TAG]@sha256:HEX.
    image: String,
    /// A trusted cosign public key (PEM); repeatable.
    #[arg(long = "key", value_name = "COSIGN_PUB")]
    keys: Vec<PathBuf>,
    /// A trusted OpenPGP keyring (`gpg --export`, binary or armored); repeatable.
    #[arg(long = "gpg-keyring", value_name = "KEYRING")]
    gpg_keyrings: Vec<PathBuf>,
    /// Lookaside storage to read simple signatures from: directory, file:// or http(s):// URL.
    #[arg(long)]
    lookaside: Option<String>,
    /// Accept a signature for any reference in the repository, including cosign's
    /// repository-only one (policy.json `matchRepository`; allows tag substitution).
    #[arg(long)]
    match_repository: bool,
    /// Verify the image's cosign attestations (`sha256-<hex>.att`) instead of its signatures.
    #[arg(long, conflicts_with_all = ["gpg_keyrings", "lookaside", "match_repository"])]
    attestations: bool,
    /// Talk plain HTTP to the image's registry (loopback test registries only).
    #[arg(long)]
    plain_http: bool,
}

pub async fn sign(cmd: SignCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd.command {
        Some(SignSub::Keygen(a)) => keygen(a, out),
        Some(SignSub::Attest(a)) => attest::attest(a, out).await,
        None => sign_image(cmd.image, out).await,
    }
}

fn keygen(a: KeygenArgs, out: Output) -> anyhow::Result<ExitCode> {
    let json = match a.format {
        KeyFormat::Cosign => {
            let prefix = a.output_key_prefix.as_deref().unwrap_or("cosign");
            let password = keys::Password::from_file_or_env(a.password_file.as_deref())?;
            let f = keys::keygen_cosign(prefix, &password)?;
            serde_json::json!({"format": "cosign", "private_key": f.private, "public_key": f.public})
        }
        KeyFormat::Gpg => {
            let Some(user_id) = a.user_id.as_deref() else {
                bail!("--format gpg needs --user-id 'Name <email>'");
            };
            let prefix = a.output_key_prefix.as_deref().unwrap_or("signing-gpg");
            let f = keys::keygen_gpg(prefix, user_id)?;
            serde_json::json!({"format": "gpg", "private_key": f.private, "public_key": f.public,
                "public_key_armored": f.public_armored, "fingerprint": f.fingerprint})
        }
    };
    print_result(&json, out);
    Ok(ExitCode::SUCCESS)
}

fn print_result(json: &serde_json::Value, out: Output) {
    match out {
        Output::Json => println!("{json}"),
        Output::Table => {
            if let Some(map) = json.as_object() {
                for (k, v) in map {
                    println!(
                        "{k}: {}",
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string())
                    );
                }
            }
        }
    }
}

async fn sign_image(a: SignImageArgs, out: Output) -> anyhow::Result<ExitCode> {
    let Some(text) = a.image.as_deref() else {
        bail!("give the image to sign (REGISTRY/REPOSITORY@sha256:HEX), or `sign keygen`");
    };
    if a.key.is_none() && a.gpg_key.is_none() {
        bail!("nothing to sign with: give --key COSIGN_KEY and/or --gpg-key FILE --lookaside DIR");
    }
    let image = PinnedImage::parse(text)?;
    // Load every key (and ask for the password) before touching the registry.
    let cosign_key = match &a.key {
        Some(path) => {
            let password = keys::Password::from_file_or_env(a.password_file.as_deref())?;
            Some(keys::load_cosign_private(path, &password)?)
        }
        None => None,
    };
    let gpg_key = a
        .gpg_key
        .as_deref()
        .map(keys::load_gpg_private)
        .transpose()?;
    let lookaside = a
        .lookaside
        .as_deref()
        .map(lookaside::Lookaside::parse)
        .transpose()?;
    let reg = registry::Registry::new(&image.reference, a.plain_http)?;
    reg.check_image(&image).await?;
    let identity = image.signed_identity();
    let mut results = Vec::new();
    if let Some(key) = cosign_key {
        let payload =
            SimpleSigningPayload::new(PayloadType::Cosign, &identity, image.digest.clone())?
                .to_json()?;
        let signature = key.sign(&payload)?;
        let tag = reg.push_signature(&image, &payload, &signature).await?;
        results.push(
            serde_json::json!({"format": "cosign", "stored": tag, "docker_reference": identity}),
        );
    }
    if let (Some(key), Some(store)) = (gpg_key, lookaside) {
        let payload =
            SimpleSigningPayload::new(PayloadType::Atomic, &identity, image.digest.clone())?
                .to_json()?;
        let signed = key.sign_message(&payload, keys::unix_now()?)?;
        let path = store.write_next(&image, &signed)?;
        results.push(
            serde_json::json!({"format": "simple-signing", "stored": path,
            "docker_reference": identity, "fingerprint": key.fingerprint_hex()}),
        );
    }
    match out {
        Output::Json => println!(
            "{}",
            serde_json::json!({"image": image.reference.whole(), "signatures": results})
        ),
        Output::Table => {
            for r in &results {
                println!(
                    "signed {} ({}) -> {}",
                    image.reference.whole(),
                    r["format"].as_str().unwrap_or_default(),
                    r["stored"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn verify(a: VerifyArgs, out: Output) -> anyhow::Result<ExitCode> {
    let image = PinnedImage::parse(&a.image)?;
    if a.keys.is_empty() && a.gpg_keyrings.is_empty() {
        bail!("no trusted key: give --key COSIGN_PUB and/or --gpg-keyring KEYRING");
    }
    let cosign = a
        .keys
        .iter()
        .map(|p| keys::load_cosign_public(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if a.attestations {
        return attestations::run(&image, &cosign, a.plain_http, out).await;
    }
    let keyring = keys::load_keyrings(&a.gpg_keyrings)?;
    if keyring.is_some() && a.lookaside.is_none() {
        bail!("--gpg-keyring needs --lookaside: simple signatures are read from lookaside storage");
    }
    let lookaside = a
        .lookaside
        .as_deref()
        .map(lookaside::Lookaside::parse)
        .transpose()?;
    let trust = Trust {
        cosign: &cosign,
        keyring: keyring.as_ref(),
        rule: if a.match_repository {
            IdentityRule::Repository
        } else {
            IdentityRule::RepoDigestOrExact
        },
    };
    // The registry is asked only when a cosign key could verify what it holds.
    let reg = if cosign.is_empty() {
        None
    } else {
        Some(registry::Registry::new(&image.reference, a.plain_http)?)
    };
    let report = verify::verify(
        &image,
        &trust,
        reg.as_ref(),
        lookaside.as_ref(),
        a.lookaside.as_deref(),
    )
    .await?;
    match out {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Table => print!("{}", verify::render_table(&report)),
    }
    Ok(if report.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNTRUSTED)
    })
}

// Keeps the documented codes next to the code that returns them.
const _: () = assert!(EXIT_ERROR == 1 && EXIT_UNTRUSTED == 2);
