//! The agent's command line, shared by the `ironroot-agent` binary (the slim one a node
//! runs: it links only the agent, so its resident memory stays small) and by
//! `ironroot agent` (the same arguments, for one binary on a workstation).
//!
//! This turns arguments into an [`AgentConfig`], opens the TPM and runs the agent; it
//! never decides anything itself.

use crate::{AgentConfig, AgentError, DevNode};
use ironroot_tpm::{AkConfig, EsapiTpm};
use std::path::PathBuf;
use std::time::Duration;

/// Run the trust agent.
///
/// It enrolls the node's TPM with the service (EK, AK, and the credential challenge that
/// proves the AK is in the same TPM), then attests on the service's schedule and at once
/// when a measurement changes. It keeps its identity in --state.
///
/// Real hardware: ironroot-agent --server https://attest.example:8443 --ca ca.pem --tcti device:/dev/tpmrm0
/// Development node: ironroot-agent ... --tcti swtpm:host=127.0.0.1,port=2321 --dev-node DIR
#[derive(clap::Args)]
pub struct Args {
    /// The attestation service's URL.
    #[arg(long, env = "IRONROOT_SERVER")]
    pub server: String,
    /// PEM file with the service's CA certificate.
    #[arg(long, env = "IRONROOT_CA")]
    pub ca: PathBuf,
    /// TPM to use: device:/dev/tpmrm0, or swtpm:host=127.0.0.1,port=2321.
    #[arg(long, default_value = "device:/dev/tpmrm0", env = "IRONROOT_TCTI")]
    pub tcti: String,
    /// Directory for the agent's identity (client certificate and key).
    #[arg(long, default_value = "/var/lib/ironroot-agent")]
    pub state: PathBuf,
    /// TCG event log. Default: /sys/kernel/security/tpm0/binary_bios_measurements (or the dev node's).
    #[arg(long)]
    pub event_log: Option<PathBuf>,
    /// IMA measurement list. Default: /sys/kernel/security/ima/ascii_runtime_measurements (or the dev node's).
    #[arg(long)]
    pub ima_log: Option<PathBuf>,
    /// Host name to register (default: this machine's).
    #[arg(long)]
    pub hostname: Option<String>,
    /// Development node directory: read its logs and play IMA for its runtime files.
    #[arg(long)]
    pub dev_node: Option<PathBuf>,
    /// Serve the ocicrypt key provider (gRPC) on this unix socket, so skopeo, podman, cri-o and
    /// containerd on this node decrypt ironroot-encrypted images: point ocicrypt at it with
    /// {"key-providers": {"ironroot": {"grpc": "unix:///run/ironroot/keyprovider.sock"}}}
    /// in the file named by OCICRYPT_KEYPROVIDER_CONFIG. The socket is mode 0600.
    #[arg(long, env = "IRONROOT_KEYPROVIDER_SOCKET")]
    pub keyprovider_socket: Option<PathBuf>,
    /// The kubelet's configuration file (the kubelet's --config; kubeadm's is the default),
    /// read at each attestation for its podPidsLimit, which the node-pid-limit policy needs
    /// and no Node or Pod field carries. At most 64 KiB of KubeletConfiguration YAML; no
    /// such file: this node has no kubelet, and nothing is sent.
    #[arg(long, default_value = crate::kubelet::DEFAULT_KUBELET_CONFIG, env = "IRONROOT_KUBELET_CONFIG")]
    pub kubelet_config: PathBuf,
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

fn hardware_uuid(dev: Option<&PathBuf>) -> String {
    let from = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    match dev {
        Some(d) => from(&d.join("hardware_uuid").display().to_string()),
        None => from("/sys/class/dmi/id/product_uuid").or_else(|| from("/etc/machine-id")),
    }
    .unwrap_or_else(|| "unknown".into())
}

impl Args {
    /// The agent's configuration: the service CA is read here, and paths left out default
    /// to the kernel's (or the development node's) logs.
    pub fn config(self) -> Result<AgentConfig, AgentError> {
        let ca_pem = std::fs::read(&self.ca).map_err(|e| AgentError::File {
            path: self.ca.display().to_string(),
            message: format!("reading the service CA: {e}"),
        })?;
        let layout = self
            .dev_node
            .as_ref()
            .map(ironroot_devnode::NodeLayout::new);
        let event_log = self
            .event_log
            .or_else(|| layout.as_ref().map(|l| l.event_log_path()));
        let ima_log = self
            .ima_log
            .or_else(|| layout.as_ref().map(|l| l.ima_log_path()));
        Ok(AgentConfig {
            server: self.server,
            ca_pem,
            state_dir: self.state,
            hostname: self.hostname.unwrap_or_else(machine_hostname),
            hardware_uuid: hardware_uuid(self.dev_node.as_ref()),
            event_log: event_log
                .or_else(|| Some("/sys/kernel/security/tpm0/binary_bios_measurements".into())),
            ima_log: ima_log
                .or_else(|| Some("/sys/kernel/security/ima/ascii_runtime_measurements".into())),
            dev_node: self.dev_node.map(|dir| DevNode {
                dir,
                poll: Duration::from_millis(250),
            }),
            max_log_bytes: 16 * 1024 * 1024,
            watch_interval: Duration::from_millis(500),
            keyprovider_socket: self.keyprovider_socket,
            kubelet_config: Some(self.kubelet_config),
        })
    }
}

/// Runs the agent the arguments describe until it fails or Ctrl-C.
pub async fn run(args: Args) -> Result<(), AgentError> {
    let tcti = args.tcti.clone();
    let cfg = args.config()?;
    let tpm = tokio::task::spawn_blocking(move || EsapiTpm::open(&tcti, AkConfig::default()))
        .await
        .map_err(|e| AgentError::Config(format!("opening the TPM: {e}")))??;
    tokio::select! {
        r = crate::run(cfg, Box::new(tpm)) => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}
