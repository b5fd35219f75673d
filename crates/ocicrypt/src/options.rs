//! The per-layer options blobs: [`PrivateOptions`] (secret, wrapped for each recipient)
//! and [`PublicOptions`] (in the `pubopts` annotation).

use crate::bytes::{null_as_default, Bytes, SecretBytes};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The only layer cipher ocicrypt registers.
pub const CIPHER_AES_256_CTR_HMAC_SHA256: &str = "AES_256_CTR_HMAC_SHA256";

/// A layer's 32-byte AES-256 key, which is also its HMAC key. Zeroized on drop; `Debug`
/// never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SymKey(Zeroizing<[u8; 32]>);

impl SymKey {
    pub fn new(key: [u8; 32]) -> Self {
        SymKey(Zeroizing::new(key))
    }
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymKey(..)")
    }
}

impl Serialize for SymKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        SecretBytes::from(&self.0[..]).serialize(s)
    }
}

impl<'de> Deserialize<'de> for SymKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = SecretBytes::deserialize(d)?;
        let key: [u8; 32] = raw
            .expose()
            .try_into()
            .map_err(|_| de::Error::custom("symkey must be 32 bytes (AES-256)"))?;
        Ok(SymKey::new(key))
    }
}

/// The 16-byte initial AES-CTR counter block.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Nonce(pub [u8; 16]);

impl Serialize for Nonce {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Bytes(self.0.to_vec()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Bytes::deserialize(d)?;
        let n: [u8; 16] = raw
            .0
            .as_slice()
            .try_into()
            .map_err(|_| de::Error::custom("nonce must be 16 bytes"))?;
        Ok(Nonce(n))
    }
}

/// `cipheroptions` of the private options. ocicrypt types it as a map of byte strings;
/// `nonce` is the only entry it writes, and other entries are ignored as Go ignores them.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PrivateCipherOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Nonce>,
}

/// The secret options of one layer (`PrivateLayerBlockCipherOptions`), the blob that key
/// wrappers encrypt. Field order is ocicrypt's.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PrivateOptions {
    pub symkey: SymKey,
    /// `sha256:<hex>` of the plaintext layer as the encryptor saw it. Untrusted: ocicrypt
    /// may write the digest of a differently compressed source, and returns it empty.
    #[serde(default, deserialize_with = "null_as_default")]
    pub digest: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cipheroptions: PrivateCipherOptions,
}

impl PrivateOptions {
    /// Parses the JSON that a key wrapper gives back.
    pub fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }
    /// The JSON that key wrappers encrypt. Holds the key, so it comes back zeroizing.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(self).map(Zeroizing::new)
    }
}

/// The public options of one layer (`PublicLayerBlockCipherOptions`), carried base64 in
/// the `org.opencontainers.image.enc.pubopts` annotation.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PublicOptions {
    pub cipher: String,
    /// HMAC-SHA256 of the whole ciphertext. Empty means none was provided, which
    /// decryption refuses.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hmac: Bytes,
    /// ocicrypt always writes `{}` here.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cipheroptions: BTreeMap<String, Bytes>,
}

impl PublicOptions {
    pub fn from_json(json: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(json)
    }
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PRIV: &str = r#"{"symkey":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","digest":"sha256:6a","cipheroptions":{"nonce":"AAECAwQFBgcICQoLDA0ODw=="}}"#;
    const PUBL: &str = r#"{"cipher":"AES_256_CTR_HMAC_SHA256","hmac":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","cipheroptions":{}}"#;

    #[test]
    fn private_options_round_trip_byte_for_byte() {
        let p = PrivateOptions::from_json(PRIV.as_bytes()).unwrap();
        assert_eq!(p.symkey.expose()[31], 31);
        assert_eq!(p.cipheroptions.nonce.unwrap().0[15], 15);
        assert_eq!(p.to_json().unwrap().as_slice(), PRIV.as_bytes());
        assert_eq!(format!("{:?}", p.symkey), "SymKey(..)");
    }

    #[test]
    fn public_options_round_trip_byte_for_byte() {
        let p = PublicOptions::from_json(PUBL.as_bytes()).unwrap();
        assert_eq!(p.cipher, CIPHER_AES_256_CTR_HMAC_SHA256);
        assert_eq!(p.to_json().unwrap(), PUBL.as_bytes());
    }

    #[test]
    fn wrong_key_or_nonce_length_is_refused() {
        let short_key = PRIV.replace("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "AAEC");
        assert!(PrivateOptions::from_json(short_key.as_bytes()).is_err());
        let short_nonce = PRIV.replace("AAECAwQFBgcICQoLDA0ODw==", "AAEC");
        assert!(PrivateOptions::from_json(short_nonce.as_bytes()).is_err());
    }

    #[test]
    fn null_hmac_and_null_maps_read_as_empty() {
        let p = PublicOptions::from_json(
            br#"{"cipher":"AES_256_CTR_HMAC_SHA256","hmac":null,"cipheroptions":null}"#,
        )
        .unwrap();
        assert!(p.hmac.0.is_empty() && p.cipheroptions.is_empty());
        let q = PrivateOptions::from_json(
            br#"{"symkey":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","digest":"","cipheroptions":null}"#,
        )
        .unwrap();
        assert_eq!(q.cipheroptions.nonce, None);
    }
}
