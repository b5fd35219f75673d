//! Image -> broker keys -> required tags. An image is ironroot-encrypted when a layer
//! descriptor of its manifest carries an `org.opencontainers.image.enc.keys.provider.NAME`
//! annotation whose blob is an ironroot key packet; the packet names the broker key, and
//! the broker's record of that key (`GET /v1/keys/{id}`) gives its transfer policy.
//!
//! Manifests come through the one registry client (`ironroot-oci`, size limits and
//! digest checks) and are cached by digest (content-addressed: never stale), with a tag
//! mapped to its digest for [`TAG_TTL`]; key records are cached for [`POLICY_TTL`], so a
//! policy change reaches placement within seconds. Failures are not cached (a key the
//! broker answers it does not hold is an answer, and is).
//!
//! The same lookups feed the policy facts ([`crate::enforce`]): [`RegistryResolver::image`]
//! and [`RegistryResolver::key_record`], so an image is fetched once for both.

use super::cache::TtlCache;
use super::decide::{ImageNeeds, KeyNeeds};
use ironroot_api::{KeyInfo, KeyPacket};
use ironroot_oci::model::Manifest;
use ironroot_oci::registry::{error_chain, Registry};
use ironroot_ocicrypt::annotations::{wrapped_keys, KeyScheme};
use ironroot_policy::LayerFacts;
use oci_spec::distribution::Reference;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How long a tag is taken to name the same digest.
pub const TAG_TTL: Duration = Duration::from_secs(30);
/// How long a key's policy is reused before the broker is asked again.
pub const POLICY_TTL: Duration = Duration::from_secs(10);
/// Entries per cache: far more images and keys than a cluster runs at once.
const CAPACITY: usize = 4096;
/// A key's record is a few hundred bytes.
const KEY_INFO_LIMIT: usize = 64 << 10;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Says what an image needs. The registry-backed [`RegistryResolver`] in production; a
/// fixed map in tests.
pub trait ImageResolver: Send + Sync + 'static {
    fn resolve<'a>(&'a self, image: &'a str) -> BoxFuture<'a, ImageNeeds>;
}

/// Fixed answers: images not in the map are plain.
pub struct FixedImages(pub HashMap<String, ImageNeeds>);

impl ImageResolver for FixedImages {
    fn resolve<'a>(&'a self, image: &'a str) -> BoxFuture<'a, ImageNeeds> {
        let needs = self.0.get(image).cloned().unwrap_or(ImageNeeds::Plain);
        Box::pin(async move { needs })
    }
}

/// A broker key named by an image's packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub id: String,
    /// The name the packet gives (for messages when the broker cannot be asked).
    pub name: String,
}

/// The ironroot keys a manifest's layers are sealed under, each once, in layer order.
/// Blobs of other providers (or of a provider named differently that is not ours) do
/// not parse as packets and are skipped: such layers are not ironroot's to place.
pub fn sealed_keys(manifest: &Manifest) -> Vec<SealedKey> {
    let mut out: Vec<SealedKey> = Vec::new();
    for layer in &manifest.layers {
        for key in layer_keys(layer) {
            if !out.iter().any(|k| k.id == key.id) {
                out.push(key);
            }
        }
    }
    out
}

/// The ironroot keys one layer is sealed under.
fn layer_keys(layer: &ironroot_oci::model::Descriptor) -> Vec<SealedKey> {
    let Ok(schemes) = wrapped_keys(&layer.annotations()) else {
        return Vec::new();
    };
    let mut out: Vec<SealedKey> = Vec::new();
    for wk in schemes {
        if !matches!(wk.scheme, KeyScheme::Provider(_)) {
            continue;
        }
        for packet in wk.blobs.iter().filter_map(|b| KeyPacket::parse(b).ok()) {
            if !out.iter().any(|k| k.id == packet.key_id) {
                out.push(SealedKey {
                    id: packet.key_id,
                    name: packet.key_name,
                });
            }
        }
    }
    out
}

/// What the registry says about one image: its digest, its layers (encrypted or not,
/// under which broker keys), and the broker keys of them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    pub digest: String,
    pub layers: Vec<LayerFacts>,
    pub keys: Vec<SealedKey>,
}

impl ImageRecord {
    pub fn from_manifest(digest: String, manifest: &Manifest) -> ImageRecord {
        let layers = manifest
            .layers
            .iter()
            .map(|l| LayerFacts {
                digest: l.digest.clone(),
                // ocicrypt marks every encrypted layer's media type so.
                encrypted: l.media_type.ends_with("+encrypted"),
                key_ids: layer_keys(l).into_iter().map(|k| k.id).collect(),
            })
            .collect();
        ImageRecord {
            digest,
            layers,
            keys: sealed_keys(manifest),
        }
    }
}

/// Plain HTTP only to a registry on loopback or one the administrator listed.
pub fn plain_http_allowed(registry: &str, insecure: &[String]) -> bool {
    if insecure.iter().any(|r| r == registry) {
        return true;
    }
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Resolves images through their registry and the key broker, with caches.
pub struct RegistryResolver {
    broker: ironroot_client::Client,
    insecure: Vec<String>,
    read_timeout: Duration,
    by_tag: TtlCache<String, String>,
    by_digest: TtlCache<String, Arc<ImageRecord>>,
    /// `None`: the broker answered it does not hold the key.
    keys: TtlCache<String, Option<Arc<KeyInfo>>>,
}

impl RegistryResolver {
    /// `broker`: an administrator's client of the service (it reads key records);
    /// `insecure_registries`: `host:port` reached over plain HTTP besides loopback ones.
    pub fn new(broker: ironroot_client::Client, insecure_registries: Vec<String>) -> Self {
        RegistryResolver {
            broker: broker.with_response_limit(KEY_INFO_LIMIT),
            insecure: insecure_registries,
            read_timeout: Duration::from_secs(5),
            by_tag: TtlCache::new(Some(TAG_TTL), CAPACITY),
            by_digest: TtlCache::new(None, CAPACITY),
            keys: TtlCache::new(Some(POLICY_TTL), CAPACITY),
        }
    }

    async fn needs(&self, image: &str) -> Result<ImageNeeds, String> {
        let record = self.image(image).await?;
        if record.keys.is_empty() {
            return Ok(ImageNeeds::Plain);
        }
        let mut out = Vec::with_capacity(record.keys.len());
        for k in &record.keys {
            out.push(self.key_needs(k).await?);
        }
        Ok(ImageNeeds::Encrypted(out))
    }

    /// The image's record, from the cache or its registry.
    pub async fn image(&self, image: &str) -> Result<Arc<ImageRecord>, String> {
        let reference: Reference = image
            .parse()
            .map_err(|e| format!("not an image reference: {e}"))?;
        let known = match reference.digest() {
            Some(d) => Some(d.to_owned()),
            None => self.by_tag.get(&reference.whole()),
        };
        if let Some(record) = known.and_then(|d| self.by_digest.get(&d)) {
            return Ok(record);
        }
        let plain = plain_http_allowed(reference.resolve_registry(), &self.insecure);
        let registry =
            Registry::connect(&reference, plain, self.read_timeout).map_err(|e| error_chain(&e))?;
        let pulled = registry
            .image_manifest(&reference)
            .await
            .map_err(|e| error_chain(&e))?;
        let record = Arc::new(ImageRecord::from_manifest(
            pulled.digest.clone(),
            &pulled.manifest,
        ));
        match reference.digest() {
            Some(d) => self.by_digest.insert(d.to_owned(), record.clone()),
            None => self.by_tag.insert(reference.whole(), pulled.digest.clone()),
        }
        self.by_digest.insert(pulled.digest, record.clone());
        Ok(record)
    }

    /// The broker's record of key `id`; `None` when the broker does not hold it.
    pub async fn key_record(&self, id: &str) -> Result<Option<Arc<KeyInfo>>, String> {
        if let Some(known) = self.keys.get(&id.to_owned()) {
            return Ok(known);
        }
        let record = match self.broker.key(id).await {
            Ok(info) if info.key_id == id => Some(Arc::new(info)),
            // The route also answers by name: only the record of this very id counts.
            Ok(info) => {
                return Err(format!(
                    "the key broker answered for key {}, not {id}",
                    info.key_id
                ))
            }
            Err(e) if e.status().is_some_and(|s| s.0 == 404) => None,
            Err(e) => {
                return Err(format!(
                    "the key broker, asked for key {id}: {}",
                    ironroot_client::error_chain(&e)
                ))
            }
        };
        self.keys.insert(id.to_owned(), record.clone());
        Ok(record)
    }

    async fn key_needs(&self, key: &SealedKey) -> Result<KeyNeeds, String> {
        let named = |e: String| format!("{e} (key {} in the image)", key.name);
        match self.key_record(&key.id).await.map_err(named)? {
            Some(info) => Ok(KeyNeeds {
                key: info.name.clone(),
                tags: info.policy.asset_tags.clone(),
            }),
            None => Err(format!(
                "the key broker does not hold key {} ({})",
                key.name, key.id
            )),
        }
    }
}

impl ImageResolver for RegistryResolver {
    fn resolve<'a>(&'a self, image: &'a str) -> BoxFuture<'a, ImageNeeds> {
        Box::pin(async move {
            self.needs(image)
                .await
                .unwrap_or_else(ImageNeeds::Unresolved)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use ironroot_api::B64;
    use ironroot_ocicrypt::annotations::join_wrapped_keys;
    use serde_json::json;

    fn packet(id: &str, name: &str) -> Vec<u8> {
        KeyPacket {
            ironroot: 1,
            key_id: id.into(),
            key_name: name.into(),
            iv: B64(vec![1; 12]),
            ciphertext: B64(vec![2; 64]),
        }
        .to_bytes()
        .unwrap()
    }

    fn layer(annotations: serde_json::Value) -> serde_json::Value {
        json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "digest": "sha256:00", "size": 1, "annotations": annotations})
    }

    #[test]
    fn keys_are_read_from_ironroot_packets_only() {
        let k1 = "0b6f1c9e-6c1e-4a8e-9f4b-2d8e6c1f0a11";
        let k2 = "aaaaaaaa-6c1e-4a8e-9f4b-2d8e6c1f0a11";
        let both = join_wrapped_keys([packet(k1, "eu-app"), packet(k2, "other")]);
        let manifest: Manifest = serde_json::from_value(json!({
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:00", "size": 1},
            "layers": [
                layer(json!({"org.opencontainers.image.enc.keys.provider.ironroot": join_wrapped_keys([packet(k1, "eu-app")])})),
                layer(json!({"org.opencontainers.image.enc.keys.provider.corp": both})),
                layer(json!({"org.opencontainers.image.enc.keys.provider.kbs": join_wrapped_keys([b"{\"not\":\"ours\"}"])})),
                layer(json!({"org.opencontainers.image.enc.keys.jwe": join_wrapped_keys([packet(k2, "jwe?")])})),
                layer(json!({"org.opencontainers.image.enc.keys.provider.ironroot": "%%% not base64"})),
                layer(json!({}))
            ]
        }))
        .unwrap();
        let keys = sealed_keys(&manifest);
        assert_eq!(
            keys,
            vec![
                SealedKey {
                    id: k1.into(),
                    name: "eu-app".into()
                },
                SealedKey {
                    id: k2.into(),
                    name: "other".into()
                }
            ]
        );
    }

    #[test]
    fn plain_http_only_to_loopback_or_listed_registries() {
        let listed = vec!["registry.lab:5000".to_string()];
        for r in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.1.2.3",
            "registry.lab:5000",
        ] {
            assert!(plain_http_allowed(r, &listed), "{r}");
        }
        for r in [
            "registry.lab",
            "10.0.0.1:5000",
            "docker.io",
            "index.docker.io",
            "localhost.evil:1",
            "[::2]:5000",
        ] {
            assert!(!plain_http_allowed(r, &listed), "{r}");
        }
    }

    #[tokio::test]
    async fn fixed_images_answer_plain_for_the_unknown() {
        let f = FixedImages(HashMap::from([(
            "a".to_string(),
            ImageNeeds::Unresolved("x".into()),
        )]));
        assert_eq!(f.resolve("a").await, ImageNeeds::Unresolved("x".into()));
        assert_eq!(f.resolve("b").await, ImageNeeds::Plain);
    }
}
