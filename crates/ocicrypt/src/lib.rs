//! The ocicrypt encrypted-layer format, for reading and writing images that skopeo,
//! podman, buildah, cri-o and containerd (imgcrypt) encrypt or decrypt.
//!
//! There is no merged OCI specification for encrypted layers; the Go library
//! `containers/ocicrypt` is the de facto one, and this crate follows its observable
//! behaviour (written here from the format's description, not translated from its code):
//!
//! * A layer is encrypted with `AES_256_CTR_HMAC_SHA256`: a fresh 32-byte key and a
//!   16-byte nonce used as the initial counter block; then HMAC-SHA256 over the whole
//!   ciphertext, keyed with the *same* key (ocicrypt has no key separation). See [`layer`].
//! * The key, nonce and plaintext digest form the secret [`PrivateOptions`] JSON, which is
//!   wrapped once per recipient scheme and stored, base64 and comma-separated, in
//!   `org.opencontainers.image.enc.keys.<scheme>` annotations. The cipher name and HMAC
//!   form the [`PublicOptions`], stored base64 in `org.opencontainers.image.enc.pubopts`.
//!   See [`annotations`].
//! * Encrypted layers get `+encrypted` media types ([`media_type`]).
//! * Keys are wrapped by JWE ([`jwe`], what `skopeo --encryption-key jwe:key.pem` does)
//!   or by external key providers speaking the [`keyprovider`] JSON protocol.
//!
//! What protects the plaintext is the descriptor digest of the encrypted blob, the HMAC
//! and, after decompression, the DiffID in the image config. The HMAC alone does not
//! authenticate the image: anyone holding the key can forge a layer.
//!
//! This crate never does I/O beyond the `Read`/`Write` it is handed: no files, network or
//! async runtime, and no cryptography of its own (all of it is in `ironroot-crypto`).

#![forbid(unsafe_code)]

pub mod annotations;
mod bytes;
pub mod jwe;
pub mod keyprovider;
pub mod layer;
pub mod media_type;
mod options;

pub use annotations::{AnnotationError, KeyScheme, WrappedKeys};
pub use bytes::{Bytes, SecretBytes};
pub use jwe::{jwe_unwrap, jwe_wrap, JweAlg, JweEnc, JweError, JwePrivateKey, JwePublicKey};
pub use keyprovider::{KeyProviderError, KeyProviderRequest, ProviderKeySpec};
pub use layer::{
    decrypt_layer, decrypt_layer_to_vec, encrypt_layer, encrypt_layer_with, DecryptedLayer,
    EncryptedLayer, LayerError,
};
pub use media_type::{decrypted_media_type, encrypted_media_type, MediaTypeError};
pub use options::{
    Nonce, PrivateCipherOptions, PrivateOptions, PublicOptions, SymKey,
    CIPHER_AES_256_CTR_HMAC_SHA256,
};
