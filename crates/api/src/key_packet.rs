//! What ironroot puts in a layer's `org.opencontainers.image.enc.keys.provider.NAME`
//! annotation: which broker key sealed the layer's private options, and the sealed
//! options (AES-256-GCM, the key id as associated data). It holds no key: opening it
//! takes the key's release to an attested node.
//!
//! Here rather than in the key provider because the admission webhook reads the key id
//! from image annotations too, and must not link the provider's gRPC stack. Unlike the
//! rest of this crate it checks more than shape: the annotation comes from an image, so
//! it is parsed with limits wherever it is read.

use crate::{WrappedBlob, B64};
use serde::{Deserialize, Serialize};

/// The largest annotation accepted (a real one is about 400 bytes).
pub const MAX_KEY_PACKET_LEN: usize = 8 * 1024;
const VERSION: u32 = 1;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Private options are ~150 bytes of JSON; this leaves room and refuses junk.
const MAX_SEALED: usize = 4 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPacket {
    /// Format version, 1.
    pub ironroot: u32,
    pub key_id: String,
    /// The key's name when it was sealed (for messages; the id is what counts).
    pub key_name: String,
    pub iv: B64,
    /// Ciphertext followed by the 16-byte GCM tag.
    pub ciphertext: B64,
}

impl KeyPacket {
    /// The packet for what the broker's wrap returned.
    pub fn from_blob(blob: WrappedBlob, key_name: &str) -> Result<KeyPacket, KeyPacketError> {
        let p = KeyPacket {
            ironroot: VERSION,
            key_id: blob.key_id,
            key_name: key_name.to_owned(),
            iv: blob.iv,
            ciphertext: blob.ciphertext,
        };
        p.check().map_err(KeyPacketError::Wrap)?;
        Ok(p)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, KeyPacketError> {
        serde_json::to_vec(self).map_err(|e| KeyPacketError::Encode(e.to_string()))
    }

    /// Parses and checks an annotation, with limits (it comes from the image: untrusted).
    pub fn parse(bytes: &[u8]) -> Result<KeyPacket, KeyPacketError> {
        if bytes.len() > MAX_KEY_PACKET_LEN {
            return Err(KeyPacketError::Invalid(format!(
                "{} bytes, more than the {MAX_KEY_PACKET_LEN} allowed",
                bytes.len()
            )));
        }
        let p: KeyPacket = serde_json::from_slice(bytes).map_err(|e| {
            KeyPacketError::Invalid(format!("not an ironroot key packet (is the layer encrypted by another provider of the same name?): {e}"))
        })?;
        p.check().map_err(KeyPacketError::Invalid)?;
        Ok(p)
    }

    fn check(&self) -> Result<(), String> {
        if self.ironroot != VERSION {
            return Err(format!(
                "format version {} (this build reads {VERSION})",
                self.ironroot
            ));
        }
        if !valid_id(&self.key_id) {
            return Err("the key id is not a key id".into());
        }
        if self.key_name.len() > 128 {
            return Err("the key name is longer than 128 bytes".into());
        }
        if self.iv.0.len() != IV_LEN {
            return Err(format!("the IV is {} bytes, not {IV_LEN}", self.iv.0.len()));
        }
        let n = self.ciphertext.0.len();
        if !(TAG_LEN < n && n <= MAX_SEALED) {
            return Err(format!("the sealed options are {n} bytes"));
        }
        Ok(())
    }

    /// The ciphertext and the tag, apart.
    pub fn sealed(&self) -> (&[u8], &[u8]) {
        self.ciphertext
            .0
            .split_at(self.ciphertext.0.len() - TAG_LEN)
    }
}

/// Why a key packet could not be read or made. [`KeyPacketError::Invalid`] is what a
/// user sees when an image's annotation is damaged; it never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPacketError {
    /// The annotation was not written by ironroot, or is damaged.
    #[error("the layer's ironroot key annotation is not valid: {0}")]
    Invalid(String),
    /// The broker's wrap answer does not make a valid packet.
    #[error("the broker's wrap: {0}")]
    Wrap(String),
    #[error("{0}")]
    Encode(String),
}

/// Broker key ids are UUIDs; accept their alphabet and length only.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn packet() -> KeyPacket {
        KeyPacket {
            ironroot: 1,
            key_id: "0b6f1c9e-6c1e-4a8e-9f4b-2d8e6c1f0a11".into(),
            key_name: "eu-app".into(),
            iv: B64(vec![7; 12]),
            ciphertext: B64(vec![9; 180]),
        }
    }

    #[test]
    fn round_trips_and_splits_the_tag() {
        let p = packet();
        let back = KeyPacket::parse(&p.to_bytes().unwrap()).unwrap();
        assert_eq!(back, p);
        let (ct, tag) = back.sealed();
        assert_eq!((ct.len(), tag.len()), (164, 16));
    }

    #[test]
    fn refuses_what_is_not_a_packet() {
        let bad = |p: KeyPacket| KeyPacket::parse(&p.to_bytes().unwrap()).unwrap_err();
        assert!(matches!(
            KeyPacket::parse(b"{\"recipients\":[]}"),
            Err(KeyPacketError::Invalid(_))
        ));
        assert!(KeyPacket::parse(&vec![b' '; MAX_KEY_PACKET_LEN + 1]).is_err());
        bad(KeyPacket {
            ironroot: 2,
            ..packet()
        });
        bad(KeyPacket {
            key_id: "../../etc".into(),
            ..packet()
        });
        bad(KeyPacket {
            iv: B64(vec![0; 16]),
            ..packet()
        });
        bad(KeyPacket {
            ciphertext: B64(vec![0; 16]),
            ..packet()
        });
        bad(KeyPacket {
            ciphertext: B64(vec![0; MAX_SEALED + 1]),
            ..packet()
        });
        let extra = br#"{"ironroot":1,"key_id":"ab","key_name":"k","iv":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAA","x":1}"#;
        assert!(
            KeyPacket::parse(extra).is_err(),
            "unknown fields are refused"
        );
    }
}
