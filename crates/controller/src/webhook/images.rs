//! Image -> broker keys -> required tags. An image is ironroot-encrypted when a layer
//! descriptor of its manifest carries an `org.opencontainers.image.enc.keys.provider.NAME`
//! annotation whose blob is an ironroot key packet; the packet names the broker key, and
//! the broker's record of that key (`GET /v1/keys/{id}`) gives its transfer policy.
//!
//! Manifests come through the one registry client (`ironroot-oci`, size limits and
//! digest checks) and are cached by digest (content-addressed: never stale), with a tag
//! mapped to its digest for [`TAG_TTL`]; key policies are cached for [`POLICY_TTL`], so a
//! policy change reaches placement within seconds. Failures are not cached.

use super::cache::TtlCache;
use super::decide::{ImageNeeds, KeyNeeds};
use ironroot_api::KeyPacket;
use ironroot_oci::model::Manifest;
use ironroot_oci::registry::{error_chain, Registry};
use ironroot_ocicrypt::annotations::{wrapped_keys, KeyScheme};
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
        let Ok(schemes) = wrapped_keys(&layer.annotations()) else {
            continue;
        };
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
    }
    out
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
    by_digest: TtlCache<String, Arc<Vec<SealedKey>>>,
    policies: TtlCache<String, KeyNeeds>,
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
            policies: TtlCache::new(Some(POLICY_TTL), CAPACITY),
        }
    }

    async fn needs(&self, image: &str) -> Result<ImageNeeds, String> {
        let keys = self.keys_of(image).await?;
        if keys.is_empty() {
            return Ok(ImageNeeds::Plain);
        }
        let mut out = Vec::with_capacity(keys.len());
        for k in keys.iter() {
            out.push(self.key_needs(k).await?);
        }
        Ok(ImageNeeds::Encrypted(out))
    }

    async fn keys_of(&self, image: &str) -> Result<Arc<Vec<SealedKey>>, String> {
        let reference: Reference = image
            .parse()
            .map_err(|e| format!("not an image reference: {e}"))?;
        let known = match reference.digest() {
            Some(d) => Some(d.to_owned()),
            None => self.by_tag.get(&reference.whole()),
        };
        if let Some(keys) = known.and_then(|d| self.by_digest.get(&d)) {
            return Ok(keys);
        }
        let plain = plain_http_allowed(reference.resolve_registry(), &self.insecure);
        let registry =
            Registry::connect(&reference, plain, self.read_timeout).map_err(|e| error_chain(&e))?;
        let pulled = registry
            .image_manifest(&reference)
            .await
            .map_err(|e| error_chain(&e))?;
        let keys = Arc::new(sealed_keys(&pulled.manifest));
        match reference.digest() {
            Some(d) => self.by_digest.insert(d.to_owned(), keys.clone()),
            None => self.by_tag.insert(reference.whole(), pulled.digest.clone()),
        }
        self.by_digest.insert(pulled.digest, keys.clone());
        Ok(keys)
    }

    async fn key_needs(&self, key: &SealedKey) -> Result<KeyNeeds, String> {
        if let Some(n) = self.policies.get(&key.id) {
            return Ok(n);
        }
        let info = self.broker.key(&key.id).await.map_err(|e| {
            format!(
                "the key broker, asked for key {} ({}): {}",
                key.name,
                key.id,
                ironroot_client::error_chain(&e)
            )
        })?;
        // The route also answers by name: only the record of this very id counts.
        if info.key_id != key.id {
            return Err(format!(
                "the key broker answered for key {}, not {}",
                info.key_id, key.id
            ));
        }
        let needs = KeyNeeds {
            key: info.name,
            tags: info.policy.asset_tags,
        };
        self.policies.insert(key.id.clone(), needs.clone());
        Ok(needs)
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
