//! Registry prefixes for approved-registries (`host[:port][/path]`) and image references
//! parsed the way Docker normalizes them (`busybox` is `docker.io/library/busybox`,
//! `index.docker.io` is `docker.io`), by `oci-spec`'s reference parser: the one
//! ironroot-signing and the controller use, so all three read a name the same way.

use oci_spec::distribution::Reference;
use serde::Serialize;
use std::fmt;

/// An approved place images come from: a registry host (with its port, if any) and an
/// optional repository path prefix, matched on whole path components (`ghcr.io/acme`
/// covers `ghcr.io/acme/app`, never `ghcr.io/acme-evil/app`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryPrefix {
    host: String,
    path: Option<String>,
}

impl fmt::Display for RegistryPrefix {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}/{p}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// The registry and repository of an image reference, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageName {
    pub registry: String,
    pub repository: String,
    pub digest: Option<String>,
}

pub(crate) fn parse_image(text: &str) -> Option<ImageName> {
    let r: Reference = text.parse().ok()?;
    Some(ImageName {
        registry: r.registry().to_ascii_lowercase(),
        repository: r.repository().to_owned(),
        digest: r.digest().map(str::to_owned),
    })
}

impl RegistryPrefix {
    /// Parses `host[:port][/path]`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<RegistryPrefix, String> {
        let (host, path) = match text.split_once('/') {
            Some((h, p)) => (h, Some(p)),
            None => (text, None),
        };
        let host = host.to_ascii_lowercase();
        let (name, port) = match host.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host.as_str(), None),
        };
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !name.split('.').all(label_ok) {
            return Err(format!("{text:?}: {name:?} is not a registry host name"));
        }
        if !(name.contains('.') || port.is_some() || name == "localhost") {
            return Err(format!(
                "{text:?}: the first component must be a registry host (with a dot or a port, \
                 or localhost); Docker Hub is docker.io"
            ));
        }
        if let Some(p) = port {
            if p.parse::<u16>().map_or(true, |p| p == 0) || p.starts_with('0') {
                return Err(format!("{text:?}: {p:?} is not a port"));
            }
        }
        let host = if host == "index.docker.io" {
            "docker.io".to_owned()
        } else {
            host
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        if let Some(p) = path {
            if !p.split('/').all(component_ok) {
                return Err(format!("{text:?}: {p:?} is not a repository path"));
            }
        }
        Ok(RegistryPrefix {
            host,
            path: path.map(str::to_owned),
        })
    }

    pub(crate) fn covers(&self, image: &ImageName) -> bool {
        image.registry == self.host
            && self.path.as_ref().is_none_or(|p| {
                image.repository == *p
                    || image
                        .repository
                        .strip_prefix(p.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(prefix: &str, image: &str) -> bool {
        RegistryPrefix::parse(prefix)
            .unwrap()
            .covers(&parse_image(image).unwrap())
    }

    #[test]
    fn docker_hub_names_normalize() {
        assert!(covers("docker.io", "busybox"));
        assert!(covers("docker.io/library", "busybox:1.36"));
        assert!(covers(
            "index.docker.io/library",
            "docker.io/library/busybox"
        ));
        assert!(!covers("docker.io/library", "bitnami/nginx"));
        assert!(covers("docker.io/bitnami", "bitnami/nginx"));
    }

    #[test]
    fn hosts_ports_and_paths_match_whole() {
        assert!(covers(
            "registry.local:5000",
            &format!("registry.local:5000/app@sha256:{}", "0".repeat(64))
        ));
        assert!(!covers("registry.local", "registry.local:5000/app"));
        assert!(!covers("registry.local:5000", "registry.local/app"));
        assert!(covers("ghcr.io/acme", "ghcr.io/acme/app:1"));
        assert!(covers("ghcr.io/acme", "ghcr.io/acme"));
        assert!(!covers("ghcr.io/acme", "ghcr.io/acme-evil/app"));
        assert!(!covers("ghcr.io", "ghcr.io.evil.com/app"));
        assert!(covers("GHCR.io", "ghcr.io/x"));
        assert!(covers("localhost", "localhost/x"));
    }

    #[test]
    fn prefixes_that_are_not_hosts_are_refused() {
        for bad in [
            "library",
            "",
            "ghcr.io/",
            "ghcr.io//x",
            "host:0",
            "host:99999",
            "ho_st.io",
            "ghcr.io/A",
        ] {
            assert!(RegistryPrefix::parse(bad).is_err(), "{bad}");
        }
    }
}
