//! The Kubernetes Pod Security Standards (`baseline`, `restricted`), check for check as
//! `k8s.io/pod-security-admission` v0.37.2 implements them for every version from v1.0 to
//! v1.37, with its overrides (a restricted check replaces the baseline check it
//! tightens). `tests/pss_fixtures.rs` holds this to the upstream fixtures.

mod baseline;
mod restricted;

use crate::verdict::Violation;
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// The newest Kubernetes minor version whose checks are implemented (`latest`).
pub const LATEST_MINOR: u32 = 37;

/// A Pod Security Standards level (`privileged` is no policy: it allows everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Baseline,
    Restricted,
}

/// The Kubernetes version whose checks apply: `v1.N` or `latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Version {
    pub minor: u32,
}

impl Version {
    /// `v1.0` to `v1.37`, or `latest`; `None` otherwise.
    pub fn parse(text: &str) -> Option<Version> {
        if text == "latest" {
            return Some(Version {
                minor: LATEST_MINOR,
            });
        }
        let minor = text.strip_prefix("v1.")?;
        if minor.is_empty() || minor.len() > 2 || !minor.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let minor: u32 = minor.parse().ok()?;
        (minor <= LATEST_MINOR && (minor == 0 || !text.starts_with("v1.0")))
            .then_some(Version { minor })
    }
}

/// The checks of `level` at `version` that the pod fails, each as a violation.
pub fn check(level: Level, version: Version, meta: &ObjectMeta, spec: &PodSpec) -> Vec<Violation> {
    let v = version.minor;
    let restricted = level == Level::Restricted;
    let mut out = Vec::new();
    baseline::app_armor(meta, spec, &mut out);
    if !(restricted && v >= 22) {
        baseline::capabilities(spec, &mut out);
    }
    baseline::host_namespaces(spec, &mut out);
    if !restricted {
        baseline::host_path_volumes(spec, &mut out);
    }
    baseline::host_ports(spec, &mut out);
    if v >= 34 {
        baseline::host_probes_and_lifecycle(spec, &mut out);
    }
    baseline::privileged(spec, &mut out);
    // From v1.35 restricted's own procMount check replaces it, and baseline relaxes it
    // for pods in a user namespace.
    if v < 35 || !(restricted || user_namespaced(spec)) {
        baseline::proc_mount(spec, &mut out);
    }
    baseline::se_linux_options(spec, v, &mut out);
    if v < 19 {
        baseline::seccomp_annotations(meta, spec, &mut out);
    } else if !restricted {
        baseline::seccomp_fields(spec, &mut out);
    }
    baseline::sysctls(spec, v, &mut out);
    baseline::windows_host_process(spec, &mut out);
    if restricted {
        restricted::all(spec, v, &mut out);
    }
    out
}

/// `hostUsers: false`: the pod runs in a user namespace, which relaxes some checks from v1.35.
pub(crate) fn user_namespaced(spec: &PodSpec) -> bool {
    spec.host_users == Some(false)
}

/// `spec.os.name: windows`, which skips Linux-only restricted checks from v1.25.
pub(crate) fn windows(spec: &PodSpec) -> bool {
    spec.os.as_ref().is_some_and(|os| os.name == "windows")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_upstream_names_them() {
        assert_eq!(Version::parse("latest"), Some(Version { minor: 37 }));
        assert_eq!(Version::parse("v1.37"), Some(Version { minor: 37 }));
        assert_eq!(Version::parse("v1.0"), Some(Version { minor: 0 }));
        for bad in [
            "v1.38", "1.37", "v2.0", "v1.", "v1.037", "v1.01", "v1.-1", "v1.3x",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }
}
