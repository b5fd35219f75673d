//! `ironroot image`: encrypted container images in OCI image layouts, interoperable with
//! skopeo (containers/ocicrypt). Encrypt and decrypt stream every layer in constant
//! memory; inspect, check and push tell and enforce whether an image is encrypted. The
//! work is `ironroot-imagecrypt`'s; this is its arguments, keys and printing.
//!
//! Never: print key material, keep a plaintext layer whose HMAC failed, or push an image
//! with a plaintext layer.

mod inspect;
mod keys;
pub(crate) mod progress;
#[cfg(test)]
mod tests;

pub use keys::{BrokerConn, DecryptKeyArgs, EncryptKeyArgs};
pub use progress::Progress;

use super::admin::print_json;
use super::{Output, Table, EXIT_ERROR};
use anyhow::Context;
use ironroot_imagecrypt::inspect::{plaintext_layers, report};
use ironroot_imagecrypt::push::{push, PushRequest};
use ironroot_imagecrypt::{
    decrypt_image, encrypt_image, DecryptKeys, DecryptOptions, EncryptKeys, EncryptOptions, Summary,
};
use ironroot_keyprovider::broker::BrokerWrapper;
use ironroot_keyprovider::command::AgentSocketUnwrapper;
use ironroot_oci::{Image, LayoutRef};
use keys::{AgentOpener, BrokerSealer, IronrootPackets};
use std::path::PathBuf;
use std::process::ExitCode;

const ENCRYPT_AFTER: &str = "\
Examples:
  ironroot image encrypt oci:build/app:1.4 oci:out/app:1.4 --key jwe:ops-pub.pem
  ironroot image encrypt oci:build/app:1.4 oci:out/app:1.4 \\
    --key provider:ironroot:app-eu+tag:region=EU --ca ca.pem --token-file admin.token

Exit codes: 0 encrypted; 1 failed or refused (DST keeps nothing of this run).";

const DECRYPT_AFTER: &str = "\
Examples:
  ironroot image decrypt oci:in/app:1.4 oci:plain/app:1.4 --key jwe:ops-priv.pem
  ironroot image decrypt oci:in/app:1.4 oci:plain/app:1.4 --key provider:ironroot

Exit codes: 0 decrypted; 1 failed or refused, e.g. a layer whose digest or HMAC does not
match, named in the message (DST keeps nothing of this run).";

const INSPECT_AFTER: &str = "\
Example: ironroot image inspect oci:out/app:1.4 --json

Exit codes: 0 shown; 1 the image could not be read.";

const CHECK_AFTER: &str = "\
Example: ironroot image check oci:out/app:1.4 && my-push-tool out/app

Exit codes: 0 every layer is encrypted; 1 a layer is not (listed), or the image could not
be read (fail closed).";

const PUSH_AFTER: &str = "\
Example: ironroot image push oci:out/app:1.4 docker://registry:5000/app:1.4

Exit codes: 0 pushed; 1 refused (the plaintext layers are listed), the image could not be
read, skopeo failed, or the registry got another manifest than the one checked.";

const SRC_HELP: &str = "The image: oci:DIR[:TAG] or DIR (TAG is needed if DIR holds several)";
const DST_HELP: &str = "Where to write it: oci:DIR[:TAG] or DIR (created if missing; TAG \
                        defaults to SRC's; an image of the same tag there is replaced)";

#[derive(clap::Subcommand)]
pub enum ImageCmd {
    /// Encrypt every layer of an image, as skopeo copy --encryption-key does.
    ///
    /// Each layer is streamed through ocicrypt's AES-256-CTR + HMAC-SHA256 into a temporary
    /// file of DST, renamed to its digest once complete; the layer key is wrapped for every
    /// --key; the manifest and index are rewritten and the config is unchanged. SRC may
    /// name an image index holding one image.
    ///
    /// Keys: jwe:PUB.pem, an RSA or EC (P-256, P-384) public key, repeatable; and at most
    /// one provider:ironroot:NAME[+tag:K=V][+group:G][+expires:UNIX] (or NAME+trusted):
    /// the broker seals each layer key under its key NAME, creating NAME with that policy
    /// if it does not exist. That needs the service: --ca and --token-file.
    #[command(after_help = ENCRYPT_AFTER)]
    Encrypt {
        #[arg(help = SRC_HELP)]
        src: String,
        #[arg(help = DST_HELP)]
        dst: String,
        /// jwe:PUBLIC.pem or provider:ironroot:ARGS (repeatable).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// Keep layers that are already encrypted as they are, instead of refusing.
        #[arg(long)]
        skip_encrypted: bool,
        #[command(flatten)]
        conn: BrokerConn,
    },
    /// Decrypt the encrypted layers of an image.
    ///
    /// Keys: jwe:PRIVATE.pem (or PRIVATE.pem), repeatable; and provider:ironroot, which
    /// asks this node's agent over --agent-socket: the broker releases a layer key only
    /// to an attested node that the key's policy allows. Each encrypted blob must match
    /// its descriptor's sha256 and size, and its HMAC; a layer failing either is deleted
    /// and the command fails naming it. DST's index.json is written only when every layer
    /// succeeded.
    #[command(after_help = DECRYPT_AFTER)]
    Decrypt {
        #[arg(help = SRC_HELP)]
        src: String,
        #[arg(help = DST_HELP)]
        dst: String,
        /// jwe:PRIVATE.pem, PRIVATE.pem or provider:ironroot (repeatable).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// The node agent's key provider socket, for provider:ironroot.
        #[arg(
            long,
            env = "IRONROOT_KEYPROVIDER_SOCKET",
            default_value = "/run/ironroot/keyprovider.sock"
        )]
        agent_socket: PathBuf,
    },
    /// Show each layer's media type, size, encryption, cipher and recipients.
    ///
    /// Recipients: the number of JWE recipients, and key providers by name; for
    /// provider:ironroot, the broker key's name and id. Nothing is decrypted.
    #[command(after_help = INSPECT_AFTER)]
    Inspect {
        #[arg(help = SRC_HELP)]
        src: String,
        /// Print JSON (the same as --output json).
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 if every layer is encrypted, 1 otherwise (for pipelines that push themselves).
    ///
    /// A layer counts as encrypted only with an encrypted media type, its public options
    /// and at least one wrapped key. The plaintext layers are listed.
    #[command(after_help = CHECK_AFTER)]
    Check {
        #[arg(help = SRC_HELP)]
        src: String,
    },
    /// Push an image to a registry, only if every layer is encrypted.
    ///
    /// Runs the check of `ironroot image check`, then `skopeo copy --preserve-digests
    /// oci:SRC docker://...` (skopeo from PATH, or $IRONROOT_SKOPEO: a skopeo, or a script
    /// running one), which copies the encrypted layers as they are, and checks that the
    /// registry received the manifest that was checked. Run it on a directory that nothing
    /// else writes meanwhile.
    #[command(after_help = PUSH_AFTER)]
    Push {
        #[arg(help = SRC_HELP)]
        src: String,
        /// docker://HOST[:PORT]/REPO:TAG
        dest: String,
        /// Require HTTPS and verify the registry's certificate (--dest-tls-verify=false
        /// for a plain-HTTP registry).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        dest_tls_verify: bool,
        /// Registry credentials file, passed to skopeo.
        #[arg(long)]
        authfile: Option<PathBuf>,
    },
}

pub async fn run(cmd: ImageCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        ImageCmd::Encrypt {
            src,
            dst,
            keys,
            skip_encrypted,
            conn,
        } => {
            let keys = EncryptKeyArgs::parse(&keys)?;
            let sealer = match keys.provider {
                Some(spec) => Some(BrokerSealer {
                    wrapper: broker_wrapper(&conn)?,
                    spec,
                }),
                None => None,
            };
            let progress = Progress::on_terminal();
            let opts = EncryptOptions {
                keys: EncryptKeys {
                    jwe: keys.jwe,
                    provider: sealer.as_ref().map(|s| s as _),
                },
                skip_encrypted,
                progress: &progress,
            };
            let (src, dst) = (LayoutRef::parse(&src)?, LayoutRef::parse(&dst)?);
            let s = encrypt_image(&src, &dst, &opts).await?;
            print_summary(&s, "encrypted", &dst, out)?;
        }
        ImageCmd::Decrypt {
            src,
            dst,
            keys,
            agent_socket,
        } => {
            let keys = DecryptKeyArgs::parse(&keys)?;
            let opener = keys.provider.then(|| AgentOpener {
                unwrapper: AgentSocketUnwrapper::new(ironroot_keyprovider::grpc::Client::new(
                    agent_socket,
                )),
            });
            let progress = Progress::on_terminal();
            let opts = DecryptOptions {
                keys: DecryptKeys {
                    jwe: keys.jwe,
                    provider: opener.as_ref().map(|o| o as _),
                },
                progress: &progress,
            };
            let (src, dst) = (LayoutRef::parse(&src)?, LayoutRef::parse(&dst)?);
            let s = decrypt_image(&src, &dst, &opts).await?;
            print_summary(&s, "decrypted", &dst, out)?;
        }
        ImageCmd::Inspect { src, json } => {
            let image = Image::open(&LayoutRef::parse(&src)?)?;
            let report = report(&image, &IronrootPackets);
            if json || out == Output::Json {
                print_json(&report)?;
            } else {
                println!("{}", inspect::render(&report));
            }
        }
        ImageCmd::Check { src } => return check(&src, out),
        ImageCmd::Push {
            src,
            dest,
            dest_tls_verify,
            authfile,
        } => {
            let src = LayoutRef::parse(&src)?;
            let skopeo = std::env::var_os("IRONROOT_SKOPEO")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from);
            let digest = push(&PushRequest {
                src: &src,
                dest: &dest,
                dest_tls_verify,
                authfile: authfile.as_deref(),
                skopeo: skopeo.as_deref(),
            })
            .await?;
            match out {
                Output::Json => print_json(&serde_json::json!({"pushed": dest, "digest": digest}))?,
                Output::Table => println!("pushed {dest} ({digest}): every layer encrypted"),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(src: &str, out: Output) -> anyhow::Result<ExitCode> {
    let image = Image::open(&LayoutRef::parse(src)?)?;
    let plain = plaintext_layers(&image);
    let ok = plain.is_empty();
    match out {
        Output::Json => print_json(&serde_json::json!({
            "manifest": image.manifest_desc.digest,
            "encrypted": ok,
            "plaintext_layers": plain,
        }))?,
        Output::Table if ok => println!(
            "{src}: all {} layers encrypted",
            image.manifest.layers.len()
        ),
        Output::Table => {
            let mut t = Table::new(&["PLAINTEXT LAYER"]);
            for p in &plain {
                t.row(vec![p.clone()]);
            }
            println!("{src}: not every layer is encrypted\n{}", t.render());
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    })
}

fn broker_wrapper(conn: &BrokerConn) -> anyhow::Result<BrokerWrapper> {
    let conn = conn.require("provider:ironroot")?;
    let (ca, token_file) = (&conn.ca, &conn.token_file);
    let ca_pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
    let token = zeroize::Zeroizing::new(
        std::fs::read_to_string(token_file)
            .with_context(|| format!("reading {}", token_file.display()))?,
    );
    Ok(BrokerWrapper::with_plain_http(
        &conn.server,
        &ca_pem,
        token.trim(),
        ironroot_client::url::PlainHttp::from_flag(conn.insecure_http_loopback),
    )?)
}

fn print_summary(s: &Summary, verb: &str, dst: &LayoutRef, out: Output) -> anyhow::Result<()> {
    match out {
        Output::Json => print_json(&serde_json::json!({
            "destination": dst.dir,
            "tag": s.top.ref_name(),
            "digest": s.top.digest,
            "layers": s.layers,
            verb: s.changed,
        })),
        Output::Table => {
            println!(
                "{}{}: {} ({} of {} layers {verb})",
                dst.dir.display(),
                s.top
                    .ref_name()
                    .map(|t| format!(":{t}"))
                    .unwrap_or_default(),
                s.top.digest,
                s.changed,
                s.layers
            );
            Ok(())
        }
    }
}
