//! Images for the admission tests: a broker key with a transfer policy, the ironroot key
//! packet a layer sealed under it carries, and an image whose layer descriptor carries
//! that annotation, pushed to a real registry. The layer is never pulled (the Kubernetes
//! nodes are kwok's), so its bytes are not a real encrypted layer: the webhook reads only
//! the manifest, as it does for a real one.

use anyhow::Context;
use ironroot_api::{CreateKey, KeyInfo, KeyPacket, KeyPolicy, WrapRequest, B64};
use ironroot_client::Client;
use ironroot_oci::model::{OCI_CONFIG, OCI_MANIFEST};
use ironroot_oci::registry::limits::sha256;
use ironroot_ocicrypt::annotations::join_wrapped_keys;
use serde_json::{json, Value};
use std::time::Duration;

/// The annotation key ironroot's key provider writes.
pub const PROVIDER_ANNOTATION: &str = "org.opencontainers.image.enc.keys.provider.ironroot";

/// Creates broker key `name` under `policy` and returns it with the annotation value of a
/// layer sealed under it.
pub async fn sealed_key(
    admin: &Client,
    name: &str,
    policy: KeyPolicy,
) -> anyhow::Result<(KeyInfo, String)> {
    let key = admin
        .create_key(&CreateKey {
            name: name.into(),
            policy,
            material: None,
        })
        .await?;
    let blob = admin
        .wrap(
            &key.key_id,
            &WrapRequest {
                plaintext: B64(b"{\"private layer options\":1}".to_vec()),
            },
        )
        .await?;
    let packet = KeyPacket::from_blob(blob, &key.name)?.to_bytes()?;
    Ok((key, join_wrapped_keys([packet])))
}

/// Pushes `registry/image` (plain HTTP, loopback): one layer whose descriptor carries
/// `annotations`.
pub async fn push_annotated(registry: &str, image: &str, annotations: Value) -> anyhow::Result<()> {
    let reference: oci_spec::distribution::Reference = format!("{registry}/{image}").parse()?;
    let client = ironroot_oci::registry::client::client(&reference, true, Duration::from_secs(10))?;
    let config = b"{\"architecture\":\"amd64\",\"os\":\"linux\"}".to_vec();
    let layer = b"not really a tar, never pulled".to_vec();
    for blob in [&config, &layer] {
        client
            .push_blob(&reference, blob, &sha256(blob))
            .await
            .context("pushing a blob")?;
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(&config), "size": config.len()},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
            "digest": sha256(&layer), "size": layer.len(), "annotations": annotations
        }]
    });
    client
        .push_manifest_raw(
            &reference,
            serde_json::to_vec(&manifest)?,
            OCI_MANIFEST.parse()?,
        )
        .await
        .context("pushing the manifest")?;
    Ok(())
}
