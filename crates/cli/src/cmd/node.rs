use super::Output;
use anyhow::Context;
use ironroot_devnode::NodeLayout;
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum NodeCmd {
    /// Create a development node directory: firmware, boot chain, kernel command line and
    /// the container runtime's binaries (copied from this machine when installed).
    Init {
        dir: PathBuf,
        /// Platform name: nodes made with the same one have identical firmware and boot chain.
        #[arg(long, default_value = "ironroot-devplatform-v1")]
        platform: String,
        #[arg(long)]
        hostname: String,
        /// A key-provider plugin binary to measure with the runtime (default: this binary).
        #[arg(long)]
        plugin: Option<PathBuf>,
    },
    /// Boot a fresh software TPM from a node directory: write the TCG event log and the
    /// IMA list under DIR/sys and extend every measurement into the TPM's PCRs.
    Boot {
        dir: PathBuf,
        /// The node's TPM, e.g. swtpm:host=127.0.0.1,port=2321.
        #[arg(long)]
        tcti: String,
    },
    /// Quote PCRs 0-10 (sha256) with the node's attestation key and write the quote in
    /// tpm2-tools form (ak.pub, quote.msg, quote.sig, quote.pcrs), so that an independent
    /// TPM stack can check it: the command prints the tpm2_checkquote line to run.
    Quote {
        /// Directory to write the files to.
        out: PathBuf,
        #[arg(long, default_value = "device:/dev/tpmrm0")]
        tcti: String,
        /// Qualifying data (nonce) as hex; random when absent.
        #[arg(long)]
        nonce: Option<String>,
    },
}

pub async fn run(cmd: NodeCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        NodeCmd::Init {
            dir,
            platform,
            hostname,
            plugin,
        } => {
            let plugin = plugin.or_else(|| std::env::current_exe().ok());
            NodeLayout::create(&dir, &platform, &hostname, plugin.as_deref())
                .with_context(|| format!("creating node directory {}", dir.display()))?;
            std::fs::write(dir.join("hardware_uuid"), uuid_for(&hostname))?;
            println!("node directory ready: {}", dir.display());
        }
        NodeCmd::Quote {
            out: dir,
            tcti,
            nonce,
        } => export_quote(dir, tcti, nonce).await?,
        NodeCmd::Boot { dir, tcti } => {
            let summary = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let mut tpm = EsapiTpm::open(&tcti, AkConfig::default())
                    .with_context(|| format!("opening TPM {tcti}"))?;
                Ok(ironroot_devnode::boot(&NodeLayout::new(&dir), &mut tpm)?)
            })
            .await??;
            match out {
                Output::Json => println!(
                    "{}",
                    serde_json::json!({"events": summary.events, "ima_entries": summary.ima_entries,
                        "banks": summary.banks.iter().map(|b| b.name()).collect::<Vec<_>>()})
                ),
                Output::Table => println!(
                    "booted: {} boot events and {} IMA entries measured into banks {}",
                    summary.events,
                    summary.ima_entries,
                    summary
                        .banks
                        .iter()
                        .map(|b| b.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A stable UUID-shaped identifier for a development node, derived from its name.
pub fn uuid_for(hostname: &str) -> String {
    let d = ironroot_crypto::digest(ironroot_crypto::HashAlg::Sha256, hostname.as_bytes());
    let h = hex::encode(&d[..d.len().min(16)]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn export_quote(dir: PathBuf, tcti: String, nonce: Option<String>) -> anyhow::Result<()> {
    let nonce = match nonce {
        Some(h) => (0..h.len())
            .step_by(2)
            .map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .context("--nonce must be hex")?,
        None => ironroot_crypto::random_bytes(32)?,
    };
    let (ak, quote) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        use ironroot_tpm::TpmDevice;
        let mut tpm = EsapiTpm::open(&tcti, AkConfig::default())
            .with_context(|| format!("opening TPM {tcti}"))?;
        let ak = tpm.attestation_key()?;
        let q = tpm.quote(
            &nonce,
            &[(ironroot_crypto::HashAlg::Sha256, (0..=10).collect())],
        )?;
        Ok((ak, q))
    })
    .await??;
    let files = ironroot_tpm_wire::to_tpm2_tools(&quote.attest, &quote.signature, &quote.pcrs)?;
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in [
        ("ak.pub", &ak.public),
        ("quote.msg", &files.message),
        ("quote.sig", &files.signature),
        ("quote.pcrs", &files.pcrs),
    ] {
        std::fs::write(dir.join(name), bytes).with_context(|| format!("writing {name}"))?;
    }
    println!(
        "wrote {}; check with:\n  cd {} && tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -f quote.pcrs -g sha256 -q {}",
        files.pcr_list,
        dir.display(),
        files.qualification_hex
    );
    Ok(())
}
