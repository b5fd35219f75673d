//! Byte strings as Go's `encoding/json` writes `[]byte`: standard padded base64. Readers
//! also take a JSON array of numbers, which Go accepts and CoCo's Rust provider emits,
//! and `null`, which Go reads as an empty slice.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// Public bytes (wrapped keys, HMACs, nonces) carried as base64 in JSON.
#[derive(Clone, PartialEq, Eq, Default, Debug)]
pub struct Bytes(pub Vec<u8>);

/// Secret bytes (private options, provider arguments): zeroized on drop, and `Debug`
/// prints only the length.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(v: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(v))
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(v: &[u8]) -> Self {
        SecretBytes::new(v.to_vec())
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Zeroizing::new(STANDARD.encode(self.0.as_slice())))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Bytes(d.deserialize_any(BytesVisitor)?.0.to_vec()))
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SecretBytes(d.deserialize_any(BytesVisitor)?.0))
    }
}

struct Decoded(Zeroizing<Vec<u8>>);

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Decoded;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a base64 string or an array of byte values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decoded, E> {
        let mut out = Zeroizing::new(Vec::with_capacity(v.len() / 4 * 3 + 3));
        STANDARD
            .decode_vec(v, &mut out)
            .map_err(|_| E::custom("invalid standard base64"))?;
        Ok(Decoded(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Decoded, A::Error> {
        // The input was size-checked before parsing, so the hint only saves reallocations.
        let mut out = Zeroizing::new(Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096)));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Decoded(out))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Decoded, E> {
        Ok(Decoded(Zeroizing::new(Vec::new())))
    }
}

/// `null` reads as the type's default, as Go reads a `null` map as an empty one.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_base64_number_array_and_null() {
        let b: Bytes = serde_json::from_str(r#""aGk=""#).unwrap();
        assert_eq!(b.0, b"hi");
        let b: Bytes = serde_json::from_str("[104, 105]").unwrap();
        assert_eq!(b.0, b"hi");
        let b: SecretBytes = serde_json::from_str("null").unwrap();
        assert!(b.expose().is_empty());
    }

    #[test]
    fn rejects_unpadded_url_base64_and_out_of_range_numbers() {
        assert!(serde_json::from_str::<Bytes>(r#""aGk""#).is_err());
        assert!(serde_json::from_str::<Bytes>(r#""_-8=""#).is_err());
        assert!(serde_json::from_str::<Bytes>("[256]").is_err());
        assert!(serde_json::from_str::<Bytes>("[-1]").is_err());
        assert!(serde_json::from_str::<Bytes>("7").is_err());
    }

    #[test]
    fn writes_padded_base64_and_hides_secrets_in_debug() {
        let s = SecretBytes::from(&b"hi"[..]);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""aGk=""#);
        assert_eq!(format!("{s:?}"), "SecretBytes(2 bytes)");
    }
}
