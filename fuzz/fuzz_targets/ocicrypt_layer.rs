//! An encrypted layer as it comes from a registry, and the annotations and options beside
//! it: decryption must fail cleanly (never panic, never hand out unauthenticated bytes).
#![no_main]

use ironroot_ocicrypt::annotations::{decode_pubopts, split_wrapped_keys};
use ironroot_ocicrypt::{
    decrypt_layer, encrypt_layer_with, jwe_unwrap, EncryptedLayer, Nonce, PrivateOptions,
    PublicOptions, SymKey,
};
use libfuzzer_sys::fuzz_target;

static KNOWN: std::sync::OnceLock<EncryptedLayer> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // Options for a known layer (made once); the fuzz input is the ciphertext.
    let layer = KNOWN.get_or_init(|| {
        encrypt_layer_with(
            &b"known plaintext"[..],
            std::io::sink(),
            SymKey::new([7; 32]),
            Nonce([9; 16]),
        )
        .expect("encrypting a fixed input")
    });
    let mut out = Vec::new();
    if decrypt_layer(data, &mut out, &layer.private, &layer.public).is_ok() {
        assert_eq!(out, b"known plaintext", "only the authentic layer decrypts");
    }
    let _ = PrivateOptions::from_json(data);
    let _ = PublicOptions::from_json(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = split_wrapped_keys(s);
        let _ = decode_pubopts(s);
    }
    let _ = jwe_unwrap(&[], data);
});
