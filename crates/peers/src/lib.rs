//! Running the real peers of encrypted images from Rust (docs/peers.md): skopeo 1.18 from
//! the cached Debian 13 root filesystem, `docker-registry` on loopback, and podman with
//! runc in a private store. Used by `ironroot demo` and the end-to-end tests.
//!
//! A harness, not a service library: it starts and stops external programs and reports
//! their failures as `anyhow` errors for a demo or a test to print. It must never be
//! linked into the service, the agent or the key provider.

#![forbid(unsafe_code)]

pub mod chromium;
pub mod dex;
mod go_peer;
pub mod kube;
pub mod rsyslog;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The repository's `scripts/` directory: `$IRONROOT_SCRIPTS`, `./scripts` when run from
/// the repository, else the one this binary was built from.
pub fn scripts_dir() -> PathBuf {
    if let Ok(s) = std::env::var("IRONROOT_SCRIPTS") {
        return PathBuf::from(s);
    }
    let here = std::env::current_dir().unwrap_or_default().join("scripts");
    if here.join("chroot-skopeo.sh").exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts")
}

/// Whether the Debian 13 root filesystem with skopeo 1.18 has been built
/// (`scripts/trixie-rootfs.sh`, run by `scripts/install-deps.sh`).
pub fn skopeo_rootfs_ready() -> bool {
    let cache = std::env::var("IRONROOT_CACHE").unwrap_or_else(|_| "/var/cache/ironroot".into());
    Path::new(&cache)
        .join("trixie-rootfs/usr/bin/skopeo")
        .exists()
}

pub struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a peer command to its end (at most 5 minutes), capturing its output.
pub async fn run(cmd: &mut tokio::process::Command) -> anyhow::Result<Output> {
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .context("a peer command did not finish within 5 minutes")??;
    Ok(Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// skopeo 1.18 in the chroot, seeing `bind` (same path inside) and the ocicrypt key
/// provider configuration `kp`.
pub async fn skopeo(bind: &Path, kp: &Path, args: &[&str]) -> anyhow::Result<Output> {
    run(
        tokio::process::Command::new(scripts_dir().join("chroot-skopeo.sh"))
            .arg("--bind")
            .arg(bind)
            .args(args)
            .env("OCICRYPT_KEYPROVIDER_CONFIG", kp),
    )
    .await
}

/// A registry on loopback (`scripts/registry.sh`), stopped when dropped.
pub struct Registry {
    dir: PathBuf,
    /// `127.0.0.1:PORT`
    pub addr: String,
}

impl Registry {
    pub async fn start(dir: &Path) -> anyhow::Result<Registry> {
        let out = run(
            tokio::process::Command::new(scripts_dir().join("registry.sh"))
                .arg("start")
                .arg(dir),
        )
        .await?;
        if !out.ok {
            bail!("the registry did not start: {}", out.stderr.trim());
        }
        Ok(Registry {
            dir: dir.to_owned(),
            addr: out.stdout.trim().to_owned(),
        })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = std::process::Command::new(scripts_dir().join("registry.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// podman with runc, vfs storage and its own store under a directory (keep its path
/// short: podman refuses a run root longer than 50 bytes); containers are removed and
/// the directory deleted when dropped.
pub struct Podman(PathBuf);

impl Podman {
    pub fn new(dir: PathBuf) -> Podman {
        Podman(dir)
    }

    fn base(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("podman");
        c.arg("--root")
            .arg(self.0.join("root"))
            .arg("--runroot")
            .arg(self.0.join("runroot"))
            .arg("--tmpdir")
            .arg(self.0.join("tmp"))
            .args(["--storage-driver", "vfs", "--runtime", "/usr/sbin/runc"])
            .args(["--cgroup-manager", "cgroupfs", "--events-backend", "file"]);
        c
    }

    /// Loads an `oci-archive:` file; returns the image id.
    pub async fn load(&self, archive: &Path) -> anyhow::Result<String> {
        let out = run(self
            .base()
            .args(["pull", "-q"])
            .arg(format!("oci-archive:{}", archive.display())))
        .await?;
        if !out.ok {
            bail!(
                "podman could not load {}: {}",
                archive.display(),
                out.stderr.trim()
            );
        }
        Ok(out.stdout.trim().to_owned())
    }

    /// Runs `argv` in the image with no network, under runc.
    pub async fn run(&self, image: &str, argv: &[&str]) -> anyhow::Result<Output> {
        run(self
            .base()
            .args(["run", "--rm", "--network", "none"])
            .args([
                "--ulimit",
                "nofile=1024:1024",
                "--ulimit",
                "nproc=1024:1024",
            ])
            .arg(image)
            .args(argv))
        .await
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let mut c = std::process::Command::new("podman");
        c.arg("--root")
            .arg(self.0.join("root"))
            .arg("--runroot")
            .arg(self.0.join("runroot"))
            .args(["--storage-driver", "vfs", "rm", "-af"]);
        let _ = c.output();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
