#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_ocicrypt::{
    decrypt_layer, decrypt_layer_to_vec, encrypt_layer, encrypt_layer_with, Bytes, LayerError,
    Nonce, SymKey,
};
use std::io::Read;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/aes-ctr-hmac");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURE}/{name}")).unwrap()
}

fn fixture_hex<const N: usize>(name: &str) -> [u8; N] {
    let text = String::from_utf8(fixture(name)).unwrap();
    hex::decode(text.trim()).unwrap().try_into().unwrap()
}

#[test]
fn encryption_matches_openssl_known_answer() {
    let plain = fixture("plain.bin");
    let mut out = Vec::new();
    let key = SymKey::new(fixture_hex("key.hex"));
    let nonce = Nonce(fixture_hex("nonce.hex"));
    let layer = encrypt_layer_with(plain.as_slice(), &mut out, key, nonce).unwrap();
    assert_eq!(out, fixture("cipher.bin"));
    assert_eq!(layer.public.hmac.0, fixture_hex::<32>("hmac.hex"));
    let cipher_sha = String::from_utf8(fixture("cipher.sha256")).unwrap();
    assert_eq!(layer.digest, format!("sha256:{}", cipher_sha.trim()));
    assert_eq!(layer.size, plain.len() as u64);
    let plain_sha = String::from_utf8(fixture("plain.sha256")).unwrap();
    assert_eq!(
        layer.plaintext_digest,
        format!("sha256:{}", plain_sha.trim())
    );
    assert_eq!(layer.private.digest, layer.plaintext_digest);
}

#[test]
fn decryption_of_openssl_fixture_verifies_and_reports_digests() {
    let plain = fixture("plain.bin");
    let layer = encrypt_layer_with(
        plain.as_slice(),
        std::io::sink(),
        SymKey::new(fixture_hex("key.hex")),
        Nonce(fixture_hex("nonce.hex")),
    )
    .unwrap();
    let cipher = fixture("cipher.bin");
    let (out, info) =
        decrypt_layer_to_vec(cipher.as_slice(), &layer.private, &layer.public, 1 << 20).unwrap();
    assert_eq!(out, plain);
    assert_eq!(info.digest, layer.digest);
    assert_eq!(info.plaintext_digest, layer.plaintext_digest);
}

#[test]
fn random_key_round_trip_including_empty_layer() {
    for len in [0usize, 1, 65_536, 65_537, 200_000] {
        let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
        let mut cipher = Vec::new();
        let layer = encrypt_layer(plain.as_slice(), &mut cipher).unwrap();
        assert_eq!(cipher.len(), len);
        let mut back = Vec::new();
        let info =
            decrypt_layer(cipher.as_slice(), &mut back, &layer.private, &layer.public).unwrap();
        assert_eq!(back, plain);
        assert_eq!(info.digest, layer.digest);
    }
}

#[test]
fn fresh_key_and_nonce_for_every_layer() {
    let a = encrypt_layer(&b"same"[..], std::io::sink()).unwrap();
    let b = encrypt_layer(&b"same"[..], std::io::sink()).unwrap();
    assert_ne!(a.private.symkey, b.private.symkey);
    assert_ne!(a.private.cipheroptions.nonce, b.private.cipheroptions.nonce);
}

#[test]
fn tampered_ciphertext_gives_hmac_mismatch_and_no_vec() {
    let plain = vec![42u8; 100_000];
    let mut cipher = Vec::new();
    let layer = encrypt_layer(plain.as_slice(), &mut cipher).unwrap();
    for pos in [0, 65_535, 99_999] {
        let mut bad = cipher.clone();
        bad[pos] ^= 0x80;
        let r = decrypt_layer_to_vec(bad.as_slice(), &layer.private, &layer.public, 1 << 20);
        assert!(matches!(r, Err(LayerError::HmacMismatch)), "flip at {pos}");
    }
    let truncated = &cipher[..cipher.len() - 1];
    let r = decrypt_layer_to_vec(truncated, &layer.private, &layer.public, 1 << 20);
    assert!(matches!(r, Err(LayerError::HmacMismatch)));
}

#[test]
fn wrong_key_gives_hmac_mismatch() {
    let mut cipher = Vec::new();
    let mut layer = encrypt_layer(&b"layer"[..], &mut cipher).unwrap();
    layer.private.symkey = SymKey::new([0u8; 32]);
    let r = decrypt_layer_to_vec(cipher.as_slice(), &layer.private, &layer.public, 100);
    assert!(matches!(r, Err(LayerError::HmacMismatch)));
}

/// A reader that panics if read: proves refusals happen before any byte is processed.
struct Untouchable;
impl Read for Untouchable {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        panic!("read after the options were refused");
    }
}

#[test]
fn empty_hmac_is_refused_before_reading() {
    let mut layer = encrypt_layer(&b"layer"[..], std::io::sink()).unwrap();
    layer.public.hmac = Bytes(Vec::new());
    let r = decrypt_layer(Untouchable, std::io::sink(), &layer.private, &layer.public);
    assert!(matches!(r, Err(LayerError::HmacNotProvided)));
    assert_eq!(
        r.unwrap_err().to_string(),
        "HMAC is not provided for decryption process"
    );
}

#[test]
fn bad_options_are_refused_before_reading() {
    let layer = encrypt_layer(&b"layer"[..], std::io::sink()).unwrap();
    let (private, public) = (layer.private, layer.public);

    let mut p = public.clone();
    p.cipher = "AES_128_CBC".into();
    let r = decrypt_layer(Untouchable, std::io::sink(), &private, &p);
    assert!(matches!(r, Err(LayerError::UnsupportedCipher(c)) if c == "AES_128_CBC"));

    let mut p = public.clone();
    p.hmac = Bytes(vec![1; 16]);
    let r = decrypt_layer(Untouchable, std::io::sink(), &private, &p);
    assert!(matches!(r, Err(LayerError::HmacMismatch)));

    let mut p = public.clone();
    p.cipheroptions.insert("nonce".into(), Bytes(vec![0; 16]));
    let r = decrypt_layer(Untouchable, std::io::sink(), &private, &p);
    assert!(matches!(r, Err(LayerError::ConflictingNonce)));

    let mut q = private.clone();
    q.cipheroptions.nonce = None;
    let r = decrypt_layer(Untouchable, std::io::sink(), &q, &public);
    assert!(matches!(r, Err(LayerError::MissingNonce)));
}

#[test]
fn to_vec_refuses_layers_over_the_limit() {
    let mut cipher = Vec::new();
    let layer = encrypt_layer(&[0u8; 1000][..], &mut cipher).unwrap();
    for limit in [0, 10, 999] {
        let r = decrypt_layer_to_vec(cipher.as_slice(), &layer.private, &layer.public, limit);
        assert!(matches!(r, Err(LayerError::TooLarge(l)) if l == limit));
    }
    let (v, _) =
        decrypt_layer_to_vec(cipher.as_slice(), &layer.private, &layer.public, 1000).unwrap();
    assert_eq!(v.len(), 1000);
}

#[test]
fn options_survive_their_json_round_trip() {
    let mut cipher = Vec::new();
    let layer = encrypt_layer(&b"data"[..], &mut cipher).unwrap();
    let private =
        ironroot_ocicrypt::PrivateOptions::from_json(&layer.private.to_json().unwrap()).unwrap();
    let public = ironroot_ocicrypt::annotations::decode_pubopts(
        &ironroot_ocicrypt::annotations::encode_pubopts(&layer.public).unwrap(),
    )
    .unwrap();
    let (v, _) = decrypt_layer_to_vec(cipher.as_slice(), &private, &public, 10).unwrap();
    assert_eq!(v, b"data");
}
