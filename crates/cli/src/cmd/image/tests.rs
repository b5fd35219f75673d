//! In-process round trips through the provider:ironroot annotations with a fake broker
//! (Wrapper) and a fake node agent (Unwrapper); the real ones are tested end to end
//! elsewhere, and skopeo interoperability in tests/image.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use ironroot_api::B64;
use ironroot_crypto::{digest, HashAlg};
use ironroot_keyprovider::{BoxFuture, KeySpec, Packet, ProviderError, Unwrapper, Wrapper};
use ironroot_ocicrypt::JwePublicKey;
use std::path::Path;

const KEY_ID: &str = "0b6f1c9e-6c1e-4a8e-9f4b-2d8e6c1f0a11";
const MASK: u8 = 0x5a;

/// "Seals" by XOR, so the test can tell the packet carries the options.
struct FakeBroker;
impl Wrapper for FakeBroker {
    fn wrap<'a>(
        &'a self,
        key: &'a KeySpec,
        optsdata: &'a [u8],
    ) -> BoxFuture<'a, Result<Packet, ProviderError>> {
        let mut ct: Vec<u8> = optsdata.iter().map(|b| b ^ MASK).collect();
        ct.extend_from_slice(&[0; 16]);
        let p = Packet {
            ironroot: 1,
            key_id: KEY_ID.into(),
            key_name: key.name.clone(),
            iv: B64(vec![7; 12]),
            ciphertext: B64(ct),
        };
        Box::pin(async move { Ok(p) })
    }
}

struct FakeAgent {
    refuse: bool,
}
impl Unwrapper for FakeAgent {
    fn unwrap<'a>(
        &'a self,
        packet: &'a Packet,
    ) -> BoxFuture<'a, Result<zeroize::Zeroizing<Vec<u8>>, ProviderError>> {
        let (ct, _) = packet.sealed();
        let out: Vec<u8> = ct.iter().map(|b| b ^ MASK).collect();
        let refuse = self.refuse;
        Box::pin(async move {
            if refuse {
                return Err(ProviderError::Refused("node not tagged region=EU".into()));
            }
            Ok(zeroize::Zeroizing::new(out))
        })
    }
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(HashAlg::Sha256, data)))
}

fn put(dir: &Path, data: &[u8]) -> String {
    let d = sha(data);
    std::fs::write(dir.join("blobs/sha256").join(&d[7..]), data).unwrap();
    d
}

fn desc(media_type: &str, data: &[u8], digest: &str) -> serde_json::Value {
    serde_json::json!({"mediaType": media_type, "digest": digest, "size": data.len()})
}

/// A layout with two layers; with `nested`, index.json names a one-image index.
fn make_image(dir: &Path, layers: &[&[u8]], nested: bool) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let config = br#"{"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = put(dir, config);
    let layer_descs: Vec<_> = layers
        .iter()
        .map(|l| desc("application/vnd.oci.image.layer.v1.tar", l, &put(dir, l)))
        .collect();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
        "config": desc("application/vnd.oci.image.config.v1+json", config, &cd),
        "layers": layer_descs,
    }))
    .unwrap();
    let mut top = desc(model::OCI_MANIFEST, &manifest, &put(dir, &manifest));
    if nested {
        let mut m = top.clone();
        m["platform"] = serde_json::json!({"architecture": "amd64", "os": "linux"});
        let idx = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": [m]
        }))
        .unwrap();
        top = desc(model::OCI_INDEX, &idx, &put(dir, &idx));
    }
    top["annotations"] = serde_json::json!({model::REF_NAME: "v1"});
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ironroot-image-unit-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn layer_blobs(dir: &Path) -> Vec<Vec<u8>> {
    let image = layout::Image::open(&LayoutRef::parse(dir.to_str().unwrap()).unwrap()).unwrap();
    image
        .manifest
        .layers
        .iter()
        .map(|l| std::fs::read(image.blob_path(l).unwrap()).unwrap())
        .collect()
}

fn provider_keys() -> EncryptKeys {
    EncryptKeys::parse(&["provider:ironroot:eu-app+tag:region=EU".into()]).unwrap()
}

fn r(dir: &Path) -> LayoutRef {
    LayoutRef::parse(dir.to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn provider_ironroot_round_trip_through_a_one_image_index() {
    let w = scratch("provider");
    let (src, enc, dec) = (w.join("src"), w.join("enc"), w.join("dec"));
    let layers: [&[u8]; 2] = [b"first layer", &[9u8; 200_000]];
    make_image(&src, &layers, true);
    let opts = EncryptOptions {
        keys: provider_keys(),
        wrapper: Some(&FakeBroker),
        skip_encrypted: false,
        progress: Progress::off(),
    };
    let s = encrypt_image(&r(&src), &r(&enc), &opts).await.unwrap();
    assert_eq!((s.layers, s.changed), (2, 2));
    assert_eq!(s.top.media_type, model::OCI_INDEX, "the index is kept");
    assert_eq!(s.top.ref_name(), Some("v1"));

    let image = layout::Image::open(&r(&enc)).unwrap();
    assert_eq!(
        image.nested.as_ref().unwrap().manifests[0].other["platform"]["os"],
        "linux"
    );
    let report = inspect::report(&image);
    for l in &report.layers {
        assert!(l.encrypted, "{l:?}");
        assert_eq!(
            l.media_type,
            "application/vnd.oci.image.layer.v1.tar+encrypted"
        );
        assert_eq!(
            l.recipients,
            vec![inspect::Recipient::Provider {
                name: "ironroot".into(),
                key_name: Some("eu-app".into()),
                key_id: Some(KEY_ID.into()),
            }]
        );
    }
    assert!(inspect::render(&report).contains("provider:ironroot key eu-app (0b6f1c9e"));
    assert!(push::plaintext_layers(&image).is_empty());

    let agent = FakeAgent { refuse: false };
    let opts = DecryptOptions {
        keys: DecryptKeys::parse(&["provider:ironroot".into()]).unwrap(),
        unwrapper: Some(&agent),
        progress: Progress::off(),
    };
    decrypt_image(&r(&enc), &r(&dec), &opts).await.unwrap();
    assert_eq!(layer_blobs(&dec), layers.map(<[u8]>::to_vec));
    let image = layout::Image::open(&r(&dec)).unwrap();
    assert!(image
        .manifest
        .layers
        .iter()
        .all(|l| l.annotations.is_none()));
    let _ = std::fs::remove_dir_all(&w);
}

#[tokio::test]
async fn a_refused_release_names_the_layer_and_leaves_nothing() {
    let w = scratch("refused");
    let (src, enc, dec) = (w.join("src"), w.join("enc"), w.join("dec"));
    make_image(&src, &[b"one", b"two"], false);
    let opts = EncryptOptions {
        keys: provider_keys(),
        wrapper: Some(&FakeBroker),
        skip_encrypted: false,
        progress: Progress::off(),
    };
    encrypt_image(&r(&src), &r(&enc), &opts).await.unwrap();
    let agent = FakeAgent { refuse: true };
    let opts = DecryptOptions {
        keys: DecryptKeys::parse(&["provider:ironroot".into()]).unwrap(),
        unwrapper: Some(&agent),
        progress: Progress::off(),
    };
    let e = decrypt_image(&r(&enc), &r(&dec), &opts).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("layer 1/2 (sha256:"), "{msg}");
    assert!(msg.contains("node not tagged region=EU"), "{msg}");
    assert!(
        !dec.exists(),
        "DST was created by this run and is removed again"
    );
    let _ = std::fs::remove_dir_all(&w);
}

#[tokio::test]
async fn encrypted_layers_are_refused_unless_skipped() {
    let w = scratch("skip");
    let (src, enc, enc2) = (w.join("src"), w.join("enc"), w.join("enc2"));
    make_image(&src, &[b"one"], false);
    let pem = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ocicrypt/tests/fixtures/skopeo/rsa-pub.pem"),
    )
    .unwrap();
    let jwe = || EncryptKeys {
        jwe: vec![JwePublicKey::from_pem(&pem).unwrap()],
        provider: None,
    };
    let opts = |skip| EncryptOptions {
        keys: jwe(),
        wrapper: None,
        skip_encrypted: skip,
        progress: Progress::off(),
    };
    encrypt_image(&r(&src), &r(&enc), &opts(false))
        .await
        .unwrap();
    let e = encrypt_image(&r(&enc), &r(&enc2), &opts(false))
        .await
        .unwrap_err();
    assert!(
        matches!(e, ImageError::AlreadyEncrypted(ref l) if l.len() == 1),
        "{e}"
    );
    assert!(!enc2.exists());
    let s = encrypt_image(&r(&enc), &r(&enc2), &opts(true))
        .await
        .unwrap();
    assert_eq!(s.changed, 0);
    assert_eq!(layer_blobs(&enc2), layer_blobs(&enc));
    // A provider key without the service to reach is refused before any work.
    let opts = EncryptOptions {
        keys: provider_keys(),
        wrapper: None,
        skip_encrypted: false,
        progress: Progress::off(),
    };
    let e = encrypt_image(&r(&src), &r(&w.join("x")), &opts)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--token-file"), "{e}");
    let _ = std::fs::remove_dir_all(&w);
}

#[tokio::test]
async fn a_source_blob_that_is_not_its_digest_is_not_encrypted() {
    let w = scratch("corrupt-src");
    let (src, enc) = (w.join("src"), w.join("enc"));
    make_image(&src, &[b"original"], false);
    let image = layout::Image::open(&r(&src)).unwrap();
    std::fs::write(
        image.blob_path(&image.manifest.layers[0]).unwrap(),
        b"swapped!",
    )
    .unwrap();
    let opts = EncryptOptions {
        keys: provider_keys(),
        wrapper: Some(&FakeBroker),
        skip_encrypted: false,
        progress: Progress::off(),
    };
    let e = encrypt_image(&r(&src), &r(&enc), &opts).await.unwrap_err();
    assert!(matches!(e, ImageError::DigestMismatch { .. }), "{e}");
    assert!(!enc.exists());
    let _ = std::fs::remove_dir_all(&w);
}
