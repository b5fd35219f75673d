//! The parts of an OCI/Docker image configuration the checks read.

use crate::Error;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Image configurations are a few KiB; history-heavy ones reach a few hundred. Beyond this
/// the bytes are not a configuration worth parsing.
pub const MAX_CONFIG_BYTES: usize = 4 * 1024 * 1024;

/// What the checks need of an image configuration (`config` object of the OCI image config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageConfig {
    /// `config.User`: `name`, `uid`, `name:group` or `uid:gid`; `None` when absent.
    pub user: Option<String>,
    /// `config.Env`: `NAME=value` strings.
    pub env: Vec<String>,
    /// `config.Healthcheck.Test`, e.g. `["CMD-SHELL", "curl -f http://localhost/"]`.
    pub healthcheck: Option<Vec<String>>,
    /// `config.ExposedPorts` keys, e.g. `"22/tcp"`.
    pub exposed_ports: Vec<String>,
}

// The foreign format's own shape. Unknown fields are ignored on purpose: image configs carry
// many fields (history, rootfs, labels) and vendors add their own; none change these checks.
// Every field may be absent or null.
#[derive(Deserialize)]
struct RawImage {
    #[serde(default)]
    config: Option<RawConfig>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawConfig {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    healthcheck: Option<RawHealthcheck>,
    #[serde(default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawHealthcheck {
    #[serde(default)]
    test: Option<Vec<String>>,
}

impl ImageConfig {
    /// An empty configuration: as a runtime reads it, a container of it runs as root with
    /// no healthcheck.
    pub fn new() -> ImageConfig {
        ImageConfig::default()
    }

    /// Parses an image configuration blob (`application/vnd.oci.image.config.v1+json` or
    /// Docker's `application/vnd.docker.container.image.v1+json`).
    pub fn from_oci_config_json(bytes: &[u8]) -> Result<ImageConfig, Error> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(Error::ConfigTooLarge {
                size: bytes.len(),
                limit: MAX_CONFIG_BYTES,
            });
        }
        let raw: RawImage =
            serde_json::from_slice(bytes).map_err(|e| Error::ConfigJson(e.to_string()))?;
        let Some(config) = raw.config else {
            return Ok(ImageConfig::default());
        };
        Ok(ImageConfig {
            user: config.user,
            env: config.env.unwrap_or_default(),
            healthcheck: config.healthcheck.and_then(|h| h.test),
            exposed_ports: config
                .exposed_ports
                .map(|ports| ports.into_keys().collect())
                .unwrap_or_default(),
        })
    }
}
