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
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
