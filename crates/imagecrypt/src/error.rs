//! What can go wrong encrypting, decrypting, checking or pushing an image.

use ironroot_oci::ImageError;

/// An image could not be encrypted, decrypted or pushed. The messages name the layer
/// concerned; they never carry key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// The layout could not be read or written, or a blob is not its descriptor.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The keys given cannot be used.
    #[error("{0}")]
    Key(String),
    #[error("{layer}: {reason}")]
    Layer { layer: String, reason: String },
    #[error(
        "{0}: the HMAC does not match: the encrypted layer was altered (or its options were); \
         nothing of it was kept"
    )]
    HmacMismatch(String),
    #[error(
        "layers already encrypted (give --skip-encrypted to keep them as they are):\n  {}",
        .0.join("\n  ")
    )]
    AlreadyEncrypted(Vec<String>),
    #[error("refused: the image has plaintext layers:\n  {}", .0.join("\n  "))]
    NotEncrypted(Vec<String>),
    #[error("push: {0}")]
    Push(String),
}

impl CryptError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> CryptError {
        CryptError::Image(ImageError::io(what, source))
    }

    pub(crate) fn layer(layer: &str, reason: impl Into<String>) -> CryptError {
        CryptError::Layer {
            layer: layer.to_owned(),
            reason: reason.into(),
        }
    }
}
