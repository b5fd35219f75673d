//! The layer-descriptor annotations that carry an encrypted layer's public options and
//! wrapped keys.

use crate::options::PublicOptions;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::collections::BTreeMap;

/// Every encryption annotation starts with this; all are removed after decryption.
pub const ENC_ANNOTATION_PREFIX: &str = "org.opencontainers.image.enc.";
/// base64 of the [`PublicOptions`] JSON.
pub const PUBOPTS_ANNOTATION: &str = "org.opencontainers.image.enc.pubopts";
/// Followed by the key-wrapping scheme, e.g. `jwe` or `provider.NAME`.
pub const KEYS_ANNOTATION_PREFIX: &str = "org.opencontainers.image.enc.keys.";
/// Upper bound on one annotation value we are willing to decode.
pub const MAX_ANNOTATION_LEN: usize = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnnotationError {
    #[error("annotation value is larger than {MAX_ANNOTATION_LEN} bytes")]
    TooLarge,
    #[error("no wrapped keys in the annotation")]
    NoWrappedKeys,
    #[error("annotation entry is not standard base64")]
    BadBase64,
    #[error("public options are not valid JSON: {0}")]
    BadPublicOptions(String),
    #[error("key-wrapping scheme names need a non-empty provider name")]
    EmptyProviderName,
}

/// A key-wrapping scheme, as named in the keys annotation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyScheme {
    Jwe,
    Pkcs7,
    Pgp,
    Pkcs11,
    /// A keyprovider from `OCICRYPT_KEYPROVIDER_CONFIG`, by its configured name.
    Provider(String),
}

impl KeyScheme {
    /// The scheme's part of the annotation name (`jwe`, `provider.NAME`).
    pub fn name(&self) -> String {
        match self {
            KeyScheme::Jwe => "jwe".into(),
            KeyScheme::Pkcs7 => "pkcs7".into(),
            KeyScheme::Pgp => "pgp".into(),
            KeyScheme::Pkcs11 => "pkcs11".into(),
            KeyScheme::Provider(n) => format!("provider.{n}"),
        }
    }

    /// The full annotation name, e.g. `org.opencontainers.image.enc.keys.provider.kbs`.
    pub fn annotation_key(&self) -> String {
        format!("{KEYS_ANNOTATION_PREFIX}{}", self.name())
    }

    /// The scheme named by an annotation key, or `None` if it is no keys annotation we
    /// know.
    pub fn from_annotation_key(key: &str) -> Option<KeyScheme> {
        match key.strip_prefix(KEYS_ANNOTATION_PREFIX)? {
            "jwe" => Some(KeyScheme::Jwe),
            "pkcs7" => Some(KeyScheme::Pkcs7),
            "pgp" => Some(KeyScheme::Pgp),
            "pkcs11" => Some(KeyScheme::Pkcs11),
            other => match other.strip_prefix("provider.") {
                Some(n) if !n.is_empty() => Some(KeyScheme::Provider(n.to_string())),
                _ => None,
            },
        }
    }

    pub fn provider(name: &str) -> Result<KeyScheme, AnnotationError> {
        if name.is_empty() {
            return Err(AnnotationError::EmptyProviderName);
        }
        Ok(KeyScheme::Provider(name.to_string()))
    }
}

/// Joins wrapped-key blobs into one annotation value: base64 of each, comma-separated.
pub fn join_wrapped_keys<I, B>(blobs: I) -> String
where
    I: IntoIterator<Item = B>,
    B: AsRef<[u8]>,
{
    blobs
        .into_iter()
        .map(|b| STANDARD.encode(b.as_ref()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Splits an annotation value into its wrapped-key blobs, in order. An empty value or an
/// empty entry is an error: ocicrypt never writes either.
pub fn split_wrapped_keys(value: &str) -> Result<Vec<Vec<u8>>, AnnotationError> {
    if value.len() > MAX_ANNOTATION_LEN {
        return Err(AnnotationError::TooLarge);
    }
    if value.is_empty() {
        return Err(AnnotationError::NoWrappedKeys);
    }
    value
        .split(',')
        .map(|part| match STANDARD.decode(part) {
            Ok(b) if !b.is_empty() => Ok(b),
            _ => Err(AnnotationError::BadBase64),
        })
        .collect()
}

/// The value of the `pubopts` annotation.
pub fn encode_pubopts(public: &PublicOptions) -> Result<String, AnnotationError> {
    let json = public
        .to_json()
        .map_err(|e| AnnotationError::BadPublicOptions(e.to_string()))?;
    Ok(STANDARD.encode(json))
}

/// Parses the value of the `pubopts` annotation.
pub fn decode_pubopts(value: &str) -> Result<PublicOptions, AnnotationError> {
    if value.len() > MAX_ANNOTATION_LEN {
        return Err(AnnotationError::TooLarge);
    }
    let json = STANDARD
        .decode(value)
        .map_err(|_| AnnotationError::BadBase64)?;
    PublicOptions::from_json(&json).map_err(|e| AnnotationError::BadPublicOptions(e.to_string()))
}

/// The wrapped-key blobs one scheme left on a layer, in annotation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeys {
    pub scheme: KeyScheme,
    pub blobs: Vec<Vec<u8>>,
}

/// Every wrapped-key annotation of a layer, by scheme. Keys annotations of unknown
/// schemes are skipped, as ocicrypt skips schemes it has no wrapper for.
pub fn wrapped_keys(
    annotations: &BTreeMap<String, String>,
) -> Result<Vec<WrappedKeys>, AnnotationError> {
    annotations
        .iter()
        .filter_map(|(k, v)| KeyScheme::from_annotation_key(k).map(|s| (s, v)))
        .map(|(scheme, v)| {
            Ok(WrappedKeys {
                scheme,
                blobs: split_wrapped_keys(v)?,
            })
        })
        .collect()
}

pub fn is_encryption_annotation(key: &str) -> bool {
    key.starts_with(ENC_ANNOTATION_PREFIX)
}

/// Removes every `org.opencontainers.image.enc.*` annotation, as ocicrypt and
/// containers/image do once a layer is decrypted.
pub fn remove_encryption_annotations(annotations: &mut BTreeMap<String, String>) {
    annotations.retain(|k, _| !is_encryption_annotation(k));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::options::CIPHER_AES_256_CTR_HMAC_SHA256;
    use crate::Bytes;

    #[test]
    fn scheme_names_round_trip() {
        for s in [
            KeyScheme::Jwe,
            KeyScheme::Pkcs7,
            KeyScheme::Pgp,
            KeyScheme::Pkcs11,
            KeyScheme::Provider("attestation-agent".into()),
        ] {
            assert_eq!(KeyScheme::from_annotation_key(&s.annotation_key()), Some(s));
        }
        assert_eq!(
            KeyScheme::Provider("kbs".into()).annotation_key(),
            "org.opencontainers.image.enc.keys.provider.kbs"
        );
        assert_eq!(
            KeyScheme::from_annotation_key("org.opencontainers.image.enc.keys.provider."),
            None
        );
        assert_eq!(KeyScheme::from_annotation_key(PUBOPTS_ANNOTATION), None);
        assert_eq!(
            KeyScheme::provider(""),
            Err(AnnotationError::EmptyProviderName)
        );
    }

    #[test]
    fn wrapped_keys_join_and_split() {
        let v = join_wrapped_keys([&b"one"[..], b"two"]);
        assert_eq!(v, "b25l,dHdv");
        assert_eq!(
            split_wrapped_keys(&v).unwrap(),
            vec![b"one".to_vec(), b"two".to_vec()]
        );
        assert_eq!(split_wrapped_keys(""), Err(AnnotationError::NoWrappedKeys));
        assert_eq!(split_wrapped_keys("b25l,"), Err(AnnotationError::BadBase64));
        assert_eq!(
            split_wrapped_keys("b25l,!!"),
            Err(AnnotationError::BadBase64)
        );
        let big = "A".repeat(MAX_ANNOTATION_LEN + 4);
        assert_eq!(split_wrapped_keys(&big), Err(AnnotationError::TooLarge));
    }

    #[test]
    fn pubopts_round_trip_and_annotations_are_removed() {
        let public = PublicOptions {
            cipher: CIPHER_AES_256_CTR_HMAC_SHA256.into(),
            hmac: Bytes(vec![1; 32]),
            cipheroptions: BTreeMap::new(),
        };
        let enc = encode_pubopts(&public).unwrap();
        assert_eq!(decode_pubopts(&enc).unwrap(), public);
        assert!(decode_pubopts("e30=").is_err()); // "{}" lacks the cipher

        let mut a = BTreeMap::new();
        a.insert(PUBOPTS_ANNOTATION.to_string(), enc);
        a.insert(KeyScheme::Jwe.annotation_key(), join_wrapped_keys([b"x"]));
        a.insert(
            "org.opencontainers.image.title".to_string(),
            "t".to_string(),
        );
        let keys = wrapped_keys(&a).unwrap();
        let want = WrappedKeys {
            scheme: KeyScheme::Jwe,
            blobs: vec![b"x".to_vec()],
        };
        assert_eq!(keys, vec![want]);
        remove_encryption_annotations(&mut a);
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            ["org.opencontainers.image.title"]
        );
    }
}
