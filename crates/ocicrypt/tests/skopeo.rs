#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! ironroot reads what the real skopeo 1.18 writes: the images in `fixtures/skopeo/` (see
//! its README.md and regen.sh) are opened from index.json down to the encrypted layer, the
//! layer key is unwrapped (JWE with the test-only private keys, or the identity key
//! provider `testkp`), the layer is decrypted and the plaintext, decompressed, must be
//! `plain-layer.tar` byte for byte, whose sha256 is the config's `diff_ids[0]`.

use ironroot_crypto::{digest, HashAlg};
use ironroot_ocicrypt::annotations::{decode_pubopts, wrapped_keys, PUBOPTS_ANNOTATION};
use ironroot_ocicrypt::keyprovider::Parameters;
use ironroot_ocicrypt::{
    decrypt_layer_to_vec, decrypted_media_type, jwe_unwrap, JweError, JwePrivateKey,
    KeyProviderRequest, KeyScheme, LayerError, PrivateOptions, PublicOptions, SecretBytes,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;

const MAX: u64 = 1 << 20;

fn fixture(rel: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/skopeo/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(HashAlg::Sha256, data)))
}

/// A blob of an OCI layout, checked against its content address.
fn blob(image: &str, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    let data = fixture(&format!("{image}/blobs/sha256/{hex}"));
    assert_eq!(sha256(&data), digest, "{image}: blob digest");
    data
}

/// The only layer of the image tagged `latest`, and the config's `diff_ids[0]`.
struct Layer {
    media_type: String,
    digest: String,
    size: u64,
    annotations: BTreeMap<String, String>,
    blob: Vec<u8>,
    diff_id: String,
}

fn layer(image: &str) -> Layer {
    let index: Value = serde_json::from_slice(&fixture(&format!("{image}/index.json"))).unwrap();
    let m = &index["manifests"][0];
    assert_eq!(
        m["annotations"]["org.opencontainers.image.ref.name"],
        "latest"
    );
    let manifest: Value =
        serde_json::from_slice(&blob(image, m["digest"].as_str().unwrap())).unwrap();
    let config: Value =
        serde_json::from_slice(&blob(image, manifest["config"]["digest"].as_str().unwrap()))
            .unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{image}: one layer");
    let l = &layers[0];
    let digest = l["digest"].as_str().unwrap().to_string();
    let blob = blob(image, &digest);
    let size = l["size"].as_u64().unwrap();
    assert_eq!(blob.len() as u64, size, "{image}: descriptor size");
    Layer {
        media_type: l["mediaType"].as_str().unwrap().to_string(),
        annotations: serde_json::from_value(l["annotations"].clone()).unwrap_or_default(),
        diff_id: config["rootfs"]["diff_ids"][0]
            .as_str()
            .unwrap()
            .to_string(),
        digest,
        size,
        blob,
    }
}

fn pubopts(l: &Layer) -> PublicOptions {
    decode_pubopts(&l.annotations[PUBOPTS_ANNOTATION]).unwrap()
}

/// The wrapped-key blobs of one scheme; skopeo writes exactly one per scheme here.
fn wrapped(l: &Layer, scheme: &KeyScheme) -> Vec<u8> {
    let all = wrapped_keys(&l.annotations).unwrap();
    assert_eq!(all.len(), 1, "one keys annotation");
    assert_eq!(&all[0].scheme, scheme);
    assert_eq!(all[0].blobs.len(), 1, "one recipient");
    all[0].blobs[0].clone()
}

fn private_key(file: &str) -> JwePrivateKey {
    JwePrivateKey::from_pem(&fixture(file)).unwrap()
}

fn open_jwe(l: &Layer, key: &str) -> Result<PrivateOptions, JweError> {
    let json = jwe_unwrap(&[private_key(key)], &wrapped(l, &KeyScheme::Jwe))?;
    Ok(PrivateOptions::from_json(&json).unwrap())
}

/// Decrypts the layer and checks the result against the descriptor, the plain image and
/// plain-layer.tar; then checks that a flipped ciphertext byte is refused.
fn decrypt_and_check(image: &str, l: &Layer, private: &PrivateOptions) {
    let plain_tar = fixture("plain-layer.tar");
    // What the unencrypted image says: its layer is plain-layer.tar, named by the diff_id.
    let plain = layer("plain");
    assert_eq!(plain.media_type, "application/vnd.oci.image.layer.v1.tar");
    assert_eq!(plain.blob, plain_tar);
    assert_eq!(plain.diff_id, sha256(&plain_tar));
    assert_eq!(l.diff_id, plain.diff_id, "{image}: skopeo keeps the config");
    // skopeo writes the source blob's digest into the private options (README).
    assert_eq!(private.digest, l.diff_id, "{image}: private options digest");

    assert!(l.media_type.ends_with("+encrypted"), "{}", l.media_type);
    let media_type = decrypted_media_type(&l.media_type).unwrap();
    let (compressed, seen) =
        decrypt_layer_to_vec(l.blob.as_slice(), private, &pubopts(l), MAX).unwrap();
    assert_eq!(seen.digest, l.digest, "{image}: ciphertext digest");
    assert_eq!(seen.size, l.size);
    assert_eq!(seen.plaintext_digest, sha256(&compressed));
    assert_eq!(seen.plaintext_size, compressed.len() as u64);
    let mut tar = Vec::new();
    match media_type {
        "application/vnd.oci.image.layer.v1.tar+gzip" => {
            flate2::read::GzDecoder::new(compressed.as_slice())
                .read_to_end(&mut tar)
                .unwrap();
        }
        "application/vnd.oci.image.layer.v1.tar+zstd" => {
            tar = zstd::decode_all(compressed.as_slice()).unwrap();
        }
        other => panic!("{image}: unexpected decrypted media type {other}"),
    }
    assert!(
        tar == plain_tar,
        "{image}: decrypted layer differs from plain-layer.tar"
    );
    assert_eq!(
        sha256(&tar),
        l.diff_id,
        "{image}: diff_id of the decrypted layer"
    );

    // One flipped ciphertext byte anywhere: HMAC mismatch and no plaintext.
    for at in [0, l.blob.len() / 2, l.blob.len() - 1] {
        let mut bad = l.blob.clone();
        bad[at] ^= 0x01;
        let r = decrypt_layer_to_vec(bad.as_slice(), private, &pubopts(l), MAX);
        assert!(
            matches!(r, Err(LayerError::HmacMismatch)),
            "{image}@{at}: {r:?}"
        );
    }
}

#[test]
fn jwe_rsa_gzip_layer_decrypts_to_the_plain_layer() {
    let l = layer("jwe-rsa");
    assert_eq!(
        l.media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
    );
    decrypt_and_check("jwe-rsa", &l, &open_jwe(&l, "rsa-priv.pem").unwrap());
}

#[test]
fn jwe_ec_gzip_layer_decrypts_to_the_plain_layer() {
    let l = layer("jwe-ec");
    assert_eq!(
        l.media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip+encrypted"
    );
    decrypt_and_check("jwe-ec", &l, &open_jwe(&l, "ec-priv.pem").unwrap());
}

#[test]
fn jwe_rsa_zstd_layer_decrypts_to_the_plain_layer() {
    let l = layer("jwe-rsa-zstd");
    assert_eq!(
        l.media_type,
        "application/vnd.oci.image.layer.v1.tar+zstd+encrypted"
    );
    decrypt_and_check("jwe-rsa-zstd", &l, &open_jwe(&l, "rsa-priv.pem").unwrap());
}

#[test]
fn the_wrong_private_key_fails_cleanly() {
    let ec = layer("jwe-ec");
    assert_eq!(
        open_jwe(&ec, "rsa-priv.pem").unwrap_err(),
        JweError::NoMatchingKey
    );
    let rsa = layer("jwe-rsa");
    assert_eq!(
        open_jwe(&rsa, "ec-priv.pem").unwrap_err(),
        JweError::NoMatchingKey
    );
}

fn params(entries: &[(&str, &[&[u8]])]) -> Parameters {
    entries
        .iter()
        .map(|(k, vs)| {
            (
                k.to_string(),
                vs.iter().map(|v| SecretBytes::from(*v)).collect(),
            )
        })
        .collect()
}

#[test]
fn provider_testkp_layer_and_captured_requests() {
    let l = layer("provider-testkp");
    // The identity provider returned optsdata as is, so the annotation entry decodes to
    // the private-options JSON itself.
    let annotation = wrapped(&l, &KeyScheme::Provider("testkp".into()));
    let private = PrivateOptions::from_json(&annotation).unwrap();
    decrypt_and_check("provider-testkp", &l, &private);

    let wrap = fixture("keyprovider-wrap-request.json");
    assert_eq!(
        KeyProviderRequest::from_json(&wrap).unwrap(),
        KeyProviderRequest::Wrap {
            parameters: params(&[("testkp", &[b"hello"])]),
            optsdata: SecretBytes::from(annotation.as_slice()),
        }
    );
    let unwrap = fixture("keyprovider-unwrap-request.json");
    let req = KeyProviderRequest::from_json(&unwrap).unwrap();
    assert_eq!(
        req,
        KeyProviderRequest::Unwrap {
            parameters: params(&[("testkp", &[b"Enabled"])]),
            annotation: annotation.clone(),
        }
    );
    // ironroot, as a client, would send skopeo's bytes exactly.
    assert_eq!(req.to_json().unwrap().as_slice(), unwrap.as_slice());
    assert_eq!(
        KeyProviderRequest::from_json(&wrap)
            .unwrap()
            .to_json()
            .unwrap()
            .as_slice(),
        wrap.as_slice()
    );

    // With a private key given too, the provider sees it (and a null password).
    let with_key = fixture("keyprovider-unwrap-request-with-privkey.json");
    assert_eq!(
        KeyProviderRequest::from_json(&with_key).unwrap(),
        KeyProviderRequest::Unwrap {
            parameters: params(&[
                ("privkeys", &[&fixture("ec-priv.pem")]),
                ("privkeys-passwords", &[b""]),
                ("testkp", &[b"a:b"]),
            ]),
            annotation,
        }
    );
}
