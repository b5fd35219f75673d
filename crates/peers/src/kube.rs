//! A real Kubernetes control plane on loopback (`scripts/kube-cluster.sh`, docs/peers.md
//! "Kubernetes"): etcd, kube-apiserver with NodeRestriction and Node,RBAC authorization,
//! kube-controller-manager, kube-scheduler, and kwok driving fake nodes `node-1..node-N`.
//!
//! For tests and the demo only. Each [`Cluster`] lives in its own temporary directory with its
//! own ports, so tests run in parallel; dropping it stops every process (and a watchdog stops
//! them if the test process dies without dropping it).

use crate::go_peer::GoPeer;
use crate::{run, scripts_dir, Output};
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Built by `scripts/kube-peers.sh`; a cold build of Kubernetes, etcd and kwok takes tens of
/// minutes on two cores.
const PEER: GoPeer = GoPeer {
    name: "the Kubernetes control plane",
    script: "kube-peers.sh",
    env: "IRONROOT_KUBE_BIN",
    prebuilt: "prebuilt binaries",
    build_timeout: Duration::from_secs(3 * 3600),
};

/// Why the control plane cannot run here, or `None` when it can: the binaries are built
/// (`IRONROOT_KUBE_BIN` or `scripts/kube-peers.sh --check`), or Go is there to build them.
/// Tests pass the reason to `ironroot_testkit::skip_missing_peer`.
pub fn missing() -> Option<String> {
    PEER.missing(|bin| {
        let api = bin.join("kube-apiserver");
        (!api.exists()).then(|| {
            format!(
                "IRONROOT_KUBE_BIN names no kube-apiserver ({})",
                api.display()
            )
        })
    })
}

/// The directory holding kube-apiserver, kubectl, etcd, kwok...: `$IRONROOT_KUBE_BIN`, else
/// what `scripts/kube-peers.sh` prints (it builds them first if needed).
pub async fn bin_dir() -> anyhow::Result<PathBuf> {
    PEER.path().await
}

/// A running control plane; stopped, and its directory removed, when dropped.
pub struct Cluster {
    bin: PathBuf,
    kubeconfig: PathBuf,
    apiserver: String,
    ca_pem: String,
    // Declared last: dropped after `Drop::drop` has stopped the processes using it.
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts a cluster with `nodes` fake nodes (`node-1..node-N`), Ready when this returns.
    pub async fn start(nodes: usize) -> anyhow::Result<Cluster> {
        let bin = bin_dir().await?;
        let dir = tempfile::Builder::new()
            .prefix("ironroot-kube-")
            .tempdir()
            .context("could not create the cluster's directory")?;
        // From here on, dropping `cluster` runs `down`, even if `up` fails half way.
        let mut cluster = Cluster {
            bin,
            kubeconfig: PathBuf::new(),
            apiserver: String::new(),
            ca_pem: String::new(),
            dir,
        };
        let out = run(cluster
            .script()
            .arg("up")
            .arg(cluster.dir.path())
            .args(["--nodes", &nodes.to_string()])
            .args(["--owner", &std::process::id().to_string()]))
        .await?;
        if !out.ok {
            bail!(
                "the Kubernetes cluster did not start:\n{}",
                out.stderr.trim()
            );
        }
        let line = |key: &str| {
            out.stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(str::to_owned)
                .with_context(|| format!("scripts/kube-cluster.sh up printed no {key}"))
        };
        cluster.kubeconfig = PathBuf::from(line("KUBECONFIG=")?);
        cluster.apiserver = line("APISERVER=")?;
        let ca = PathBuf::from(line("CA=")?);
        cluster.ca_pem = std::fs::read_to_string(&ca)
            .with_context(|| format!("could not read {}", ca.display()))?;
        Ok(cluster)
    }

    fn script(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(scripts_dir().join("kube-cluster.sh"));
        c.env("IRONROOT_KUBE_BIN", &self.bin);
        c
    }

    /// The administrator's kubeconfig (system:masters).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `https://127.0.0.1:PORT`
    pub fn apiserver(&self) -> &str {
        &self.apiserver
    }

    /// The cluster CA, which signed the API server's certificate and every client's.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The directory holding the binaries (kubectl, kube-apiserver, ...).
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// The kubeconfig of `node`'s own kubelet identity (`system:node:NODE`, group
    /// `system:nodes`), which the Node authorizer and NodeRestriction limit.
    pub fn node_kubeconfig(&self, node: &str) -> anyhow::Result<PathBuf> {
        let p = self.dir.path().join(format!("node-{node}.kubeconfig"));
        if !p.exists() {
            bail!("no kubeconfig for node {node} in this cluster");
        }
        Ok(p)
    }

    /// Mints a client certificate and kubeconfig for user `name` (in `group`, if given), with
    /// no permissions beyond what RBAC grants that user or group.
    pub async fn user_kubeconfig(
        &self,
        name: &str,
        group: Option<&str>,
    ) -> anyhow::Result<PathBuf> {
        let out = run(self
            .script()
            .arg("user")
            .arg(self.dir.path())
            .arg(name)
            .args(group))
        .await?;
        if !out.ok {
            bail!(
                "could not mint a kubeconfig for {name}: {}",
                out.stderr.trim()
            );
        }
        Ok(PathBuf::from(out.stdout.trim()))
    }

    /// `kubectl ARGS` as the administrator.
    pub async fn kubectl(&self, args: &[&str]) -> anyhow::Result<Output> {
        self.kubectl_with(&self.kubeconfig, args).await
    }

    /// `kubectl ARGS` with another identity's kubeconfig.
    pub async fn kubectl_with(&self, kubeconfig: &Path, args: &[&str]) -> anyhow::Result<Output> {
        run(tokio::process::Command::new(self.bin.join("kubectl"))
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(args))
        .await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new(scripts_dir().join("kube-cluster.sh"))
            .arg("down")
            .arg(self.dir.path())
            .status();
    }
}
