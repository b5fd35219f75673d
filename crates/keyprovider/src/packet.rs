//! What ironroot puts in a layer's `org.opencontainers.image.enc.keys.provider.NAME`
//! annotation: which broker key sealed the layer's private options, and the sealed
//! options (AES-256-GCM, the key id as associated data). It holds no key: opening it
//! takes the key's release to an attested node.

use crate::ProviderError;
use ironroot_api::{WrappedBlob, B64};
use serde::{Deserialize, Serialize};

/// The largest annotation accepted (a real one is about 400 bytes).
pub const MAX_PACKET_LEN: usize = 8 * 1024;
const VERSION: u32 = 1;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Private options are ~150 bytes of JSON; this leaves room and refuses junk.
const MAX_SEALED: usize = 4 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Packet {
    /// Format version, 1.
    pub ironroot: u32,
    pub key_id: String,
    /// The key's name when it was sealed (for messages; the id is what counts).
    pub key_name: String,
    pub iv: B64,
    /// Ciphertext followed by the 16-byte GCM tag.
    pub ciphertext: B64,
}

impl Packet {
    pub fn from_blob(blob: WrappedBlob, key_name: &str) -> Result<Packet, ProviderError> {
        let p = Packet {
            ironroot: VERSION,
            key_id: blob.key_id,
            key_name: key_name.to_owned(),
            iv: blob.iv,
            ciphertext: blob.ciphertext,
        };
        p.check()
            .map_err(|e| ProviderError::Internal(format!("the broker's wrap: {e}")))?;
        Ok(p)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, ProviderError> {
        serde_json::to_vec(self).map_err(|e| ProviderError::Internal(e.to_string()))
    }

    /// Parses and checks an annotation, with limits (it comes from the image: untrusted).
    pub fn parse(bytes: &[u8]) -> Result<Packet, ProviderError> {
        if bytes.len() > MAX_PACKET_LEN {
            return Err(ProviderError::Packet(format!(
                "{} bytes, more than the {MAX_PACKET_LEN} allowed",
                bytes.len()
            )));
        }
        let p: Packet = serde_json::from_slice(bytes).map_err(|e| {
            ProviderError::Packet(format!("not an ironroot key packet (is the layer encrypted by another provider of the same name?): {e}"))
        })?;
        p.check().map_err(ProviderError::Packet)?;
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

/// Broker key ids are UUIDs; accept their alphabet and length only.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn packet() -> Packet {
        Packet {
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
        let back = Packet::parse(&p.to_bytes().unwrap()).unwrap();
        assert_eq!(back, p);
        let (ct, tag) = back.sealed();
        assert_eq!((ct.len(), tag.len()), (164, 16));
    }

    #[test]
    fn refuses_what_is_not_a_packet() {
        let bad = |p: Packet| Packet::parse(&p.to_bytes().unwrap()).unwrap_err();
        assert!(matches!(
            Packet::parse(b"{\"recipients\":[]}"),
            Err(ProviderError::Packet(_))
        ));
        assert!(Packet::parse(&vec![b' '; MAX_PACKET_LEN + 1]).is_err());
        bad(Packet {
            ironroot: 2,
            ..packet()
        });
        bad(Packet {
            key_id: "../../etc".into(),
            ..packet()
        });
        bad(Packet {
            iv: B64(vec![0; 16]),
            ..packet()
        });
        bad(Packet {
            ciphertext: B64(vec![0; 16]),
            ..packet()
        });
        bad(Packet {
            ciphertext: B64(vec![0; MAX_SEALED + 1]),
            ..packet()
        });
        let extra = br#"{"ironroot":1,"key_id":"ab","key_name":"k","iv":"AAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAAAAAAAA","x":1}"#;
        assert!(Packet::parse(extra).is_err(), "unknown fields are refused");
    }
}
