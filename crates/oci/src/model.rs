//! The OCI documents: descriptors, image manifests and image indexes, and the media types
//! read. Fields we do not interpret (`platform`, `artifactType`, `subject`, ...) are kept as
//! they are, so a rewritten manifest says everything the original said. No I/O.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Docker's schema 2 manifest and manifest list, which registries still serve.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The annotation that names an image in an OCI layout's index.json (`oci:DIR:TAG`).
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Descriptor {
    pub fn annotations(&self) -> BTreeMap<String, String> {
        self.annotations.clone().unwrap_or_default()
    }

    pub fn ref_name(&self) -> Option<&str> {
        self.annotations.as_ref()?.get(REF_NAME).map(String::as_str)
    }

    /// The same descriptor for other content: embedded `data` no longer matches, so it
    /// goes.
    pub fn for_new_blob(&self, media_type: &str, digest: &str, size: u64) -> Descriptor {
        let mut other = self.other.clone();
        other.remove("data");
        Descriptor {
            media_type: media_type.to_owned(),
            digest: digest.to_owned(),
            size,
            annotations: self.annotations.clone(),
            other,
        }
    }

    /// The `os` and `architecture` of an index entry's `platform`, when it has one.
    pub fn platform(&self) -> Option<(&str, &str)> {
        let p = self.other.get("platform")?;
        Some((p.get("os")?.as_str()?, p.get("architecture")?.as_str()?))
    }

    /// A short name for messages: `sha256:` and 12 hex digits.
    pub fn short_digest(&self) -> &str {
        self.digest.get(..19).unwrap_or(&self.digest)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Index {
    pub fn empty() -> Index {
        Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.into()),
            manifests: Vec::new(),
            other: Map::new(),
        }
    }

    /// Adds `desc`, replacing any entry of the same name (or, unnamed, of the same
    /// digest), as skopeo does when it writes `oci:DIR:TAG`.
    pub fn put(&mut self, desc: Descriptor) {
        let name = desc.ref_name().map(str::to_owned);
        self.manifests.retain(|m| match &name {
            Some(n) => m.ref_name() != Some(n),
            None => !(m.ref_name().is_none() && m.digest == desc.digest),
        });
        self.manifests.push(desc);
    }
}

/// What a `sha256:<64 hex>` digest names in `blobs/sha256/`. Anything else is refused:
/// digests come from the image and become file names.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    let ok = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then_some(hex)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn digests_that_are_not_plain_sha256_are_refused() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(sha256_hex(&good), Some("a".repeat(64).as_str()));
        for bad in [
            format!("sha512:{}", "a".repeat(64)),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:../{}", "a".repeat(61)),
            "sha256:".to_string(),
        ] {
            assert_eq!(sha256_hex(&bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown_fields_survive_and_put_replaces_by_name() {
        let json = r#"{"mediaType":"m","digest":"d","size":1,"platform":{"os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"v1"}}"#;
        let d: Descriptor = serde_json::from_str(json).unwrap();
        assert_eq!(d.other["platform"]["os"], "linux");
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(back["platform"]["os"], "linux");
        let mut idx = Index::empty();
        idx.put(d.clone());
        let mut d2 = d.clone();
        d2.digest = "e".into();
        idx.put(d2);
        assert_eq!(idx.manifests.len(), 1);
        assert_eq!(idx.manifests[0].digest, "e");
    }
}
