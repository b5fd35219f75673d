//! Layer media types and their `+encrypted` forms.

/// `(plaintext, encrypted)` pairs for the OCI layer types ocicrypt defines.
const OCI_PAIRS: &[(&str, &str)] = &[
    (
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+encrypted",
    ),
    (
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
    ),
    (
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.v1.tar+zstd+encrypted",
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+encrypted",
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip+encrypted",
    ),
    (
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd+encrypted",
    ),
];

/// Docker schema2 layer types. Encrypted images must use OCI manifests, so these encrypt
/// to the OCI equivalent (as containers/image converts them) and never come back.
const DOCKER_TO_OCI: &[(&str, &str)] = &[
    (
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
    ),
    (
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip+encrypted",
    ),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaTypeError {
    #[error("layer media type {0:?} cannot be encrypted")]
    NotEncryptable(String),
    #[error("media type {0:?} is not an encrypted layer type")]
    NotEncrypted(String),
}

/// The media type of the encrypted form of a layer of type `plain`.
pub fn encrypted_media_type(plain: &str) -> Result<&'static str, MediaTypeError> {
    OCI_PAIRS
        .iter()
        .chain(DOCKER_TO_OCI)
        .find(|(p, _)| *p == plain)
        .map(|(_, e)| *e)
        .ok_or_else(|| MediaTypeError::NotEncryptable(plain.to_string()))
}

/// The media type of the decrypted form of a layer of type `encrypted`.
pub fn decrypted_media_type(encrypted: &str) -> Result<&'static str, MediaTypeError> {
    OCI_PAIRS
        .iter()
        .find(|(_, e)| *e == encrypted)
        .map(|(p, _)| *p)
        .ok_or_else(|| MediaTypeError::NotEncrypted(encrypted.to_string()))
}

/// Whether `media_type` is one of the encrypted layer types we can decrypt.
pub fn is_encrypted_media_type(media_type: &str) -> bool {
    decrypted_media_type(media_type).is_ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_oci_type_round_trips() {
        for (plain, enc) in OCI_PAIRS {
            assert_eq!(encrypted_media_type(plain).unwrap(), *enc);
            assert_eq!(decrypted_media_type(enc).unwrap(), *plain);
            assert!(is_encrypted_media_type(enc));
            assert!(!is_encrypted_media_type(plain));
        }
    }

    #[test]
    fn docker_gzip_becomes_oci_gzip_encrypted() {
        let enc =
            encrypted_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip").unwrap();
        assert_eq!(enc, "application/vnd.oci.image.layer.v1.tar+gzip+encrypted");
        assert_eq!(
            decrypted_media_type(enc).unwrap(),
            "application/vnd.oci.image.layer.v1.tar+gzip"
        );
    }

    #[test]
    fn unknown_and_double_encryption_are_refused() {
        let wasm = "application/vnd.wasm.content.layer.v1+wasm";
        assert_eq!(
            encrypted_media_type(wasm),
            Err(MediaTypeError::NotEncryptable(wasm.into()))
        );
        let enc = "application/vnd.oci.image.layer.v1.tar+encrypted";
        assert!(matches!(
            encrypted_media_type(enc),
            Err(MediaTypeError::NotEncryptable(_))
        ));
        assert!(matches!(
            decrypted_media_type("application/vnd.oci.image.layer.v1.tar"),
            Err(MediaTypeError::NotEncrypted(_))
        ));
    }
}
