//! In-process round trips through a key provider's annotations with a fake broker (a
//! sealer) and a fake node agent (an opener); the real ones are tested end to end by the
//! CLI and e2e, and skopeo interoperability in the CLI's tests/image.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_crypto::{digest, HashAlg};
use ironroot_imagecrypt::inspect::{self, Recipient};
use ironroot_imagecrypt::{
    decrypt_image, encrypt_image, BoxFuture, CryptError, DecryptKeys, DecryptOptions, EncryptKeys,
    EncryptOptions, LayerKeyOpener, LayerKeySealer, ProviderFailure, SealedKey, SealedKeyNames,
};
use ironroot_oci::{layout, model, ImageError, LayoutRef, Silent};
use ironroot_ocicrypt::JwePublicKey;
use std::path::Path;
use zeroize::Zeroizing;

const KEY_ID: &str = "0b6f1c9e-6c1e-4a8e-9f4b-2d8e6c1f0a11";
const MASK: u8 = 0x5a;

/// "Seals" by XOR under a named key, so the test can tell the annotation carries the
/// options and which key sealed them.
struct FakeBroker;
impl LayerKeySealer for FakeBroker {
    fn provider(&self) -> &str {
        "ironroot"
    }
    fn seal<'a>(&'a self, optsdata: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, ProviderFailure>> {
        let ct: Vec<u8> = optsdata.iter().map(|b| b ^ MASK).collect();
        let packet =
            serde_json::json!({"key_name": "eu-app", "key_id": KEY_ID, "ct": hex::encode(ct)});
        Box::pin(async move { Ok(serde_json::to_vec(&packet)?) })
    }
}

struct FakeAgent {
    refuse: bool,
}
impl LayerKeyOpener for FakeAgent {
    fn provider(&self) -> &str {
        "ironroot"
    }
    fn open<'a>(
        &'a self,
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderFailure>> {
        let refuse = self.refuse;
        Box::pin(async move {
            if refuse {
                return Err("node not tagged region=EU".into());
            }
            let v: serde_json::Value = serde_json::from_slice(wrapped)?;
            let ct = hex::decode(v["ct"].as_str().unwrap_or_default())?;
            Ok(Zeroizing::new(ct.iter().map(|b| b ^ MASK).collect()))
        })
    }
}

struct FakeNames;
impl SealedKeyNames for FakeNames {
    fn sealed_key(&self, provider: &str, wrapped: &[u8]) -> Option<SealedKey> {
        let v: serde_json::Value = serde_json::from_slice(wrapped).ok()?;
        (provider == "ironroot").then(|| SealedKey {
            name: v["key_name"].as_str().unwrap_or_default().into(),
            id: v["key_id"].as_str().unwrap_or_default().into(),
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

/// A layout with the given layers; with `nested`, index.json names a one-image index.
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

fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ironroot-imagecrypt-{name}-"))
        .tempdir()
        .unwrap()
}

fn layer_blobs(dir: &Path) -> Vec<Vec<u8>> {
    let image = layout::Image::open(&r(dir)).unwrap();
    image
        .manifest
        .layers
        .iter()
        .map(|l| std::fs::read(image.blob_path(l).unwrap()).unwrap())
        .collect()
}

fn broker_keys() -> EncryptKeys<'static> {
    EncryptKeys {
        jwe: Vec::new(),
        provider: Some(&FakeBroker),
    }
}

fn r(dir: &Path) -> LayoutRef {
    LayoutRef::parse(dir.to_str().unwrap()).unwrap()
}

#[tokio::test]
async fn provider_round_trip_through_a_one_image_index() {
    let tmp = scratch("provider");
    let w = tmp.path().to_path_buf();
    let (src, enc, dec) = (w.join("src"), w.join("enc"), w.join("dec"));
    let layers: [&[u8]; 2] = [b"first layer", &[9u8; 200_000]];
    make_image(&src, &layers, true);
    let opts = EncryptOptions {
        keys: broker_keys(),
        skip_encrypted: false,
        progress: &Silent,
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
    let report = inspect::report(&image, &FakeNames);
    for l in &report.layers {
        assert!(l.encrypted, "{l:?}");
        assert_eq!(
            l.media_type,
            "application/vnd.oci.image.layer.v1.tar+encrypted"
        );
        assert_eq!(
            l.recipients,
            vec![Recipient::Provider {
                name: "ironroot".into(),
                key_name: Some("eu-app".into()),
                key_id: Some(KEY_ID.into()),
            }]
        );
    }
    assert!(inspect::plaintext_layers(&image).is_empty());

    let agent = FakeAgent { refuse: false };
    let opts = DecryptOptions {
        keys: DecryptKeys {
            jwe: Vec::new(),
            provider: Some(&agent),
        },
        progress: &Silent,
    };
    decrypt_image(&r(&enc), &r(&dec), &opts).await.unwrap();
    assert_eq!(layer_blobs(&dec), layers.map(<[u8]>::to_vec));
    let image = layout::Image::open(&r(&dec)).unwrap();
    assert!(image
        .manifest
        .layers
        .iter()
        .all(|l| l.annotations.is_none()));
    assert_eq!(inspect::plaintext_layers(&image).len(), 2);
}

#[tokio::test]
async fn a_refused_release_names_the_layer_and_leaves_nothing() {
    let tmp = scratch("refused");
    let w = tmp.path().to_path_buf();
    let (src, enc, dec) = (w.join("src"), w.join("enc"), w.join("dec"));
    make_image(&src, &[b"one", b"two"], false);
    let opts = EncryptOptions {
        keys: broker_keys(),
        skip_encrypted: false,
        progress: &Silent,
    };
    encrypt_image(&r(&src), &r(&enc), &opts).await.unwrap();
    let agent = FakeAgent { refuse: true };
    let opts = DecryptOptions {
        keys: DecryptKeys {
            jwe: Vec::new(),
            provider: Some(&agent),
        },
        progress: &Silent,
    };
    let e = decrypt_image(&r(&enc), &r(&dec), &opts).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("layer 1/2 (sha256:"), "{msg}");
    assert!(
        msg.contains("provider.ironroot: node not tagged region=EU"),
        "{msg}"
    );
    assert!(
        !dec.exists(),
        "DST was created by this run and is removed again"
    );
}

#[tokio::test]
async fn encrypted_layers_are_refused_unless_skipped() {
    let tmp = scratch("skip");
    let w = tmp.path().to_path_buf();
    let (src, enc, enc2) = (w.join("src"), w.join("enc"), w.join("enc2"));
    make_image(&src, &[b"one"], false);
    let pem = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ocicrypt/tests/fixtures/skopeo/rsa-pub.pem"),
    )
    .unwrap();
    let opts = |skip| EncryptOptions {
        keys: EncryptKeys {
            jwe: vec![JwePublicKey::from_pem(&pem).unwrap()],
            provider: None,
        },
        skip_encrypted: skip,
        progress: &Silent,
    };
    encrypt_image(&r(&src), &r(&enc), &opts(false))
        .await
        .unwrap();
    let e = encrypt_image(&r(&enc), &r(&enc2), &opts(false))
        .await
        .unwrap_err();
    assert!(
        matches!(e, CryptError::AlreadyEncrypted(ref l) if l.len() == 1),
        "{e}"
    );
    assert!(!enc2.exists());
    let s = encrypt_image(&r(&enc), &r(&enc2), &opts(true))
        .await
        .unwrap();
    assert_eq!(s.changed, 0);
    assert_eq!(layer_blobs(&enc2), layer_blobs(&enc));
}

#[tokio::test]
async fn an_encryption_without_recipients_is_refused_before_any_work() {
    let tmp = scratch("no-keys");
    let w = tmp.path().to_path_buf();
    let (src, enc) = (w.join("src"), w.join("enc"));
    make_image(&src, &[b"one"], false);
    let opts = EncryptOptions {
        keys: EncryptKeys {
            jwe: Vec::new(),
            provider: None,
        },
        skip_encrypted: false,
        progress: &Silent,
    };
    let e = encrypt_image(&r(&src), &r(&enc), &opts).await.unwrap_err();
    assert!(matches!(e, CryptError::Key(_)), "{e}");
    assert!(!enc.exists());
}

#[tokio::test]
async fn a_source_blob_that_is_not_its_digest_is_not_encrypted() {
    let tmp = scratch("corrupt-src");
    let w = tmp.path().to_path_buf();
    let (src, enc) = (w.join("src"), w.join("enc"));
    make_image(&src, &[b"original"], false);
    let image = layout::Image::open(&r(&src)).unwrap();
    std::fs::write(
        image.blob_path(&image.manifest.layers[0]).unwrap(),
        b"swapped!",
    )
    .unwrap();
    let opts = EncryptOptions {
        keys: broker_keys(),
        skip_encrypted: false,
        progress: &Silent,
    };
    let e = encrypt_image(&r(&src), &r(&enc), &opts).await.unwrap_err();
    assert!(
        matches!(e, CryptError::Image(ImageError::DigestMismatch { .. })),
        "{e}"
    );
    assert!(!enc.exists());
}
