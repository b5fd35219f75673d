//! Encrypted container images in OCI image layouts, interoperable with skopeo
//! (containers/ocicrypt): what the CLI, the coming admission webhook and the runtime agent
//! share about image encryption.
//!
//! * [`encrypt_image`] and [`decrypt_image`]: every layer streamed in constant memory
//!   through ocicrypt's AES-256-CTR + HMAC-SHA256 into the destination's staging area;
//!   layer keys wrapped for JWE recipients and for a key provider ([`LayerKeySealer`],
//!   [`LayerKeyOpener`]: the ironroot broker on a build host, the node's agent on a node);
//! * [`inspect`]: each layer's encryption, cipher and recipients, and whether every layer
//!   is usably encrypted;
//! * [`push`]: an image pushed through skopeo, only if every layer is encrypted.
//!
//! Key providers sit behind traits so that this crate links no RPC stack: the caller
//! adapts its transport (`ironroot-keyprovider`'s broker client or agent socket).
//!
//! Never: hold or log key material beyond the layer being processed, keep a plaintext
//! layer whose digest or HMAC failed, push an image with a plaintext layer, or print
//! (progress goes through [`ironroot_oci::LayerProgress`]).

#![forbid(unsafe_code)]

mod decrypt;
mod encrypt;
mod error;
pub mod inspect;
mod provider;
pub mod push;

pub use decrypt::{decrypt_image, DecryptKeys, DecryptOptions};
pub use encrypt::{encrypt_image, EncryptKeys, EncryptOptions};
pub use error::CryptError;
pub use provider::{
    BoxFuture, LayerKeyOpener, LayerKeySealer, ProviderFailure, SealedKey, SealedKeyNames,
};

use ironroot_oci::model::Descriptor;

/// What encrypt or decrypt wrote.
#[derive(Debug, serde::Serialize)]
pub struct Summary {
    /// The index.json entry of the new image.
    #[serde(skip)]
    pub top: Descriptor,
    pub layers: usize,
    /// Layers encrypted or decrypted (the others were copied as they were).
    pub changed: usize,
}

/// How messages name a layer: position and full digest.
pub fn layer_label(i: usize, n: usize, desc: &Descriptor) -> String {
    format!("layer {}/{n} ({})", i + 1, desc.digest)
}
