//! Finding a peer built from Go modules (Dex, the Kubernetes control plane): its script
//! (`scripts/lib/go-peer.sh`) builds it once per pinned version into a cache outside the clone
//! and prints where it is; an environment variable can name a prebuilt one instead. One place,
//! so the two peers cannot come to disagree on the variable, `--check` or the build's limits.

use crate::scripts_dir;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A peer built by a `scripts/*.sh` that prints the built path.
pub(crate) struct GoPeer {
    /// For messages: "Dex", "the Kubernetes control plane".
    pub name: &'static str,
    /// The script in `scripts/` that builds the peer and prints its path.
    pub script: &'static str,
    /// The environment variable naming a prebuilt path instead.
    pub env: &'static str,
    /// What that variable names, for messages: "a prebuilt binary".
    pub prebuilt: &'static str,
    /// A cold build downloads and compiles the modules.
    pub build_timeout: Duration,
}

impl GoPeer {
    /// Why the peer cannot run here, or `None` when it can: `$env` names something
    /// `prebuilt_missing` accepts, or the script's `--check` finds it built, or Go is there to
    /// build it.
    pub fn missing(
        &self,
        prebuilt_missing: impl FnOnce(&Path) -> Option<String>,
    ) -> Option<String> {
        if let Ok(path) = std::env::var(self.env) {
            return prebuilt_missing(Path::new(&path));
        }
        let check = std::process::Command::new(scripts_dir().join(self.script))
            .arg("--check")
            .output();
        if matches!(&check, Ok(o) if o.status.success()) {
            return None;
        }
        let go = std::process::Command::new("go").arg("version").output();
        (!matches!(go, Ok(o) if o.status.success())).then(|| {
            format!(
                "{} is not built and Go is missing to build it (scripts/{}; set {} to use {})",
                self.name, self.script, self.env, self.prebuilt
            )
        })
    }

    /// `$env`, else what the script prints (it builds the peer first if needed).
    pub async fn path(&self) -> anyhow::Result<PathBuf> {
        if let Ok(path) = std::env::var(self.env) {
            return Ok(PathBuf::from(path));
        }
        let script = scripts_dir().join(self.script);
        let out = tokio::time::timeout(
            self.build_timeout,
            tokio::process::Command::new(&script).output(),
        )
        .await
        .with_context(|| {
            format!(
                "scripts/{} did not finish within {} minutes",
                self.script,
                self.build_timeout.as_secs() / 60
            )
        })?
        .with_context(|| format!("could not run {}", script.display()))?;
        if !out.status.success() {
            bail!(
                "{} could not be built (scripts/{}): {}",
                self.name,
                self.script,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    }
}
