//! The node's kubelet configuration, read from the kubelet's config file (its `--config`;
//! kubeadm writes `/var/lib/kubelet/config.yaml`) and sent with each evidence, for the
//! policies that need what no Node or Pod field carries (`podPidsLimit`).
//!
//! Read here, on the node, rather than through the API server's node proxy
//! (`/api/v1/nodes/N/proxy/configz`), whose RBAC (`nodes/proxy` get) also reaches the
//! kubelet's exec endpoint. The node's root writes this file, as it could answer configz:
//! what is read here is a conformance fact, never a trust fact, and never changes a verdict.
//!
//! The file is untrusted bytes: at most [`MAX_KUBELET_CONFIG`] bytes, parsed with YAML
//! budgets, and only the fields used here are read.

use ironroot_api::KubeletFacts;
use serde::Deserialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where kubeadm has the kubelet read its configuration (the kubelet's `--config`).
pub const DEFAULT_KUBELET_CONFIG: &str = "/var/lib/kubelet/config.yaml";

/// The largest kubelet config file read; a real one is a few KiB.
pub const MAX_KUBELET_CONFIG: u64 = 64 * 1024;

/// The kubelet's `podPidsLimit` when its configuration leaves it out (unlimited).
pub const KUBELET_DEFAULT_POD_PIDS_LIMIT: i64 = -1;

const KIND: &str = "KubeletConfiguration";
const API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";

/// Why the kubelet's configuration could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KubeletConfigError {
    #[error("{path}: larger than {MAX_KUBELET_CONFIG} bytes")]
    TooLarge { path: String },
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("not a kubelet configuration: {0}")]
    Syntax(String),
    #[error("kind {0:?} is not {KIND}")]
    Kind(String),
    #[error("apiVersion {0:?} is not {API_VERSION}")]
    ApiVersion(String),
}

/// The fields of a `KubeletConfiguration` used here; every other field is ignored.
#[derive(Deserialize)]
struct KubeletConfigDoc {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default, rename = "podPidsLimit")]
    pod_pids_limit: Option<i64>,
}

/// The facts in a kubelet config file's bytes: a `KubeletConfiguration` of
/// `kubelet.config.k8s.io/v1beta1` (both stated, as the kubelet requires). A field the file
/// leaves out has the kubelet's default, as the kubelet itself would run with.
pub fn parse_kubelet_config(bytes: &[u8]) -> Result<KubeletFacts, KubeletConfigError> {
    if bytes.len() as u64 > MAX_KUBELET_CONFIG {
        return Err(KubeletConfigError::TooLarge {
            path: "the kubelet configuration".into(),
        });
    }
    let mut budget = serde_saphyr::Budget::default();
    // A kubelet config has no use for anchors: refuse alias bombs early.
    budget.max_aliases = 64;
    budget.max_anchors = 64;
    budget.max_events = 20_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    let doc: KubeletConfigDoc = serde_saphyr::from_slice_with_options(bytes, options)
        .map_err(|e| KubeletConfigError::Syntax(e.to_string()))?;
    // The kubelet refuses a config file without both, so one without them (an empty
    // file, say) is not what it runs with: no facts rather than its defaults.
    let kind = doc.kind.unwrap_or_default();
    if kind != KIND {
        return Err(KubeletConfigError::Kind(kind));
    }
    let api_version = doc.api_version.unwrap_or_default();
    if api_version != API_VERSION {
        return Err(KubeletConfigError::ApiVersion(api_version));
    }
    Ok(KubeletFacts {
        pod_pids_limit: Some(doc.pod_pids_limit.unwrap_or(KUBELET_DEFAULT_POD_PIDS_LIMIT)),
    })
}

/// The facts in the kubelet config file at `path`; `None` when there is no such file (the
/// node runs no kubelet, or not one configured there).
pub fn read_kubelet_config(path: &Path) -> Result<Option<KubeletFacts>, KubeletConfigError> {
    let read_err = |e: std::io::Error| KubeletConfigError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    // One byte past the limit tells a file at the limit from a larger one, without
    // reading the larger one whole.
    let mut bytes = Vec::new();
    file.take(MAX_KUBELET_CONFIG + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_KUBELET_CONFIG {
        return Err(KubeletConfigError::TooLarge {
            path: path.display().to_string(),
        });
    }
    parse_kubelet_config(&bytes).map(Some)
}

/// The kubelet config file an agent reads at each evidence, logging a problem with it
/// once (until it changes or goes away) rather than at every attestation.
#[derive(Debug)]
pub(crate) struct KubeletSource {
    path: Option<PathBuf>,
    last_error: Mutex<Option<String>>,
}

impl KubeletSource {
    pub fn new(path: Option<PathBuf>) -> KubeletSource {
        KubeletSource {
            path,
            last_error: Mutex::new(None),
        }
    }

    /// The facts to send now: `None` when there is no file or it cannot be used (the
    /// evidence goes without them; the policies that need them say "unknown").
    pub fn facts(&self) -> Option<KubeletFacts> {
        let path = self.path.as_deref()?;
        let read = read_kubelet_config(path);
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        match read {
            Ok(facts) => {
                *last = None;
                facts
            }
            Err(e) => {
                let message = e.to_string();
                if last.as_deref() != Some(message.as_str()) {
                    tracing::error!(error = %message, "the kubelet configuration is not sent with evidence");
                    *last = Some(message);
                }
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "kubelet_tests.rs"]
mod tests;
