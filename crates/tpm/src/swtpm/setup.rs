//! Manufacturing a TPM with swtpm_setup and a local CA of its own.

use super::{ca_dir, io, tpm_dir, Swtpm};
use crate::TpmError;
use ironroot_crypto::HashAlg;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to manufacture the TPM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupOptions {
    /// Create EK certificates (and a platform certificate) signed by the local CA.
    pub ek_certs: bool,
    /// PCR banks to allocate.
    pub pcr_banks: Vec<HashAlg>,
}

impl Default for SetupOptions {
    fn default() -> Self {
        SetupOptions {
            ek_certs: true,
            pcr_banks: vec![HashAlg::Sha1, HashAlg::Sha256],
        }
    }
}

/// The local CA that signs the EK certificates of TPMs set up in one state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCa {
    /// Self-signed root certificate (PEM).
    pub root_cert: PathBuf,
    /// Intermediate certificate that signs EK certificates (PEM).
    pub issuer_cert: PathBuf,
}

impl Swtpm {
    /// Whether `swtpm` and `swtpm_setup` are on PATH; tests skip when they are not.
    pub fn available() -> bool {
        ["swtpm", "swtpm_setup"].iter().all(|tool| {
            std::env::var_os("PATH").is_some_and(|path| {
                std::env::split_paths(&path).any(|dir| dir.join(tool).is_file())
            })
        })
    }

    /// Manufactures a fresh TPM in `state_dir`, overwriting any earlier one. The local
    /// CA is created on first use and kept, so TPMs set up again in the same directory
    /// chain to the same root.
    pub fn setup(state_dir: &Path, options: &SetupOptions) -> Result<LocalCa, TpmError> {
        let ca_dir = ca_dir(state_dir);
        std::fs::create_dir_all(ca_dir.join("ca")).map_err(io("creating the CA directory"))?;
        std::fs::create_dir_all(tpm_dir(state_dir))
            .map_err(io("creating the TPM state directory"))?;
        write_config(&ca_dir)?;
        let banks: Vec<&str> = options.pcr_banks.iter().map(|b| b.name()).collect();
        let mut cmd = Command::new("swtpm_setup");
        cmd.arg("--tpm2")
            .arg("--tpmstate")
            .arg(tpm_dir(state_dir))
            .args([
                "--createek",
                "--lock-nvram",
                "--overwrite",
                "--pcr-banks",
                &banks.join(","),
            ])
            .arg("--config")
            .arg(ca_dir.join("swtpm_setup.conf"));
        if options.ek_certs {
            cmd.args(["--create-ek-cert", "--create-platform-cert"]);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(io("running swtpm_setup"))?;
        if !out.status.success() {
            return Err(TpmError::Swtpm(format!(
                "swtpm_setup failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(Self::local_ca(state_dir))
    }

    /// Where [`Swtpm::setup`] keeps the CA certificates for `state_dir`.
    pub fn local_ca(state_dir: &Path) -> LocalCa {
        let ca = ca_dir(state_dir).join("ca");
        LocalCa {
            root_cert: ca.join("swtpm-localca-rootca-cert.pem"),
            issuer_cert: ca.join("issuercert.pem"),
        }
    }
}

/// Writes swtpm_setup's and swtpm_localca's configuration (keys as in
/// /etc/swtpm_setup.conf and /etc/swtpm-localca.conf) pointing into `dir`.
fn write_config(dir: &Path) -> Result<(), TpmError> {
    let ca = dir.join("ca");
    let setup = format!(
        "create_certs_tool = /usr/bin/swtpm_localca\n\
         create_certs_tool_config = {}\n\
         create_certs_tool_options = {}\n",
        dir.join("swtpm-localca.conf").display(),
        dir.join("swtpm-localca.options").display(),
    );
    let localca = format!(
        "statedir = {}\nsigningkey = {}\nissuercert = {}\ncertserial = {}\n",
        ca.display(),
        ca.join("signkey.pem").display(),
        ca.join("issuercert.pem").display(),
        ca.join("certserial").display(),
    );
    let options =
        "--platform-manufacturer ironroot\n--platform-version 2.1\n--platform-model swtpm\n";
    for (name, body) in [
        ("swtpm_setup.conf", setup.as_str()),
        ("swtpm-localca.conf", &localca),
        ("swtpm-localca.options", options),
    ] {
        std::fs::write(dir.join(name), body).map_err(io("writing swtpm configuration"))?;
    }
    Ok(())
}
