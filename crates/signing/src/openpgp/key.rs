//! v4 public keys, their fingerprints, and keyrings as `gpg --export [--armor]` writes them.

use super::packet::{self, Reader};
use super::{armor, OpenPgpError};
use ironroot_crypto::{digest, HashAlg, RsaPublicKey};

/// Ed25519's curve OID as OpenPGP writes it (1.3.6.1.4.1.11591.15.1, without the DER tag).
pub(crate) const ED25519_OID: [u8; 9] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01];
pub(crate) const ALGO_RSA: u8 = 1;
pub(crate) const ALGO_RSA_SIGN: u8 = 3;
pub(crate) const ALGO_EDDSA_LEGACY: u8 = 22;
pub(crate) const ALGO_ED25519: u8 = 27;
/// Keyrings larger than this are refused (a big RSA key with signatures is a few KiB).
pub const MAX_KEYRING_LEN: usize = 1024 * 1024;
const MAX_USER_ID_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyMaterial {
    Rsa(RsaPublicKey),
    /// Algorithm 22 or 27, with the raw 32-byte key.
    Ed25519 {
        algo: u8,
        key: [u8; 32],
    },
    /// A key we can name but not verify with (DSA, ECDSA, ...); signatures by it fail.
    Other(u8),
}

/// A v4 primary public key with its user IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    fingerprint: [u8; 20],
    pub(crate) created: u32,
    pub(crate) material: KeyMaterial,
    /// User IDs as exported (for display only; nothing trusts them).
    pub user_ids: Vec<String>,
}

impl PublicKey {
    /// Parses a public key packet body (tag 6).
    pub(crate) fn from_packet_body(body: &[u8]) -> Result<Self, OpenPgpError> {
        let mut r = Reader::new(body);
        let version = r.u8()?;
        if version != 4 {
            return Err(OpenPgpError::Unsupported {
                what: "key version",
                value: u32::from(version),
            });
        }
        let created = r.u32()?;
        let algo = r.u8()?;
        let material = match algo {
            ALGO_RSA | ALGO_RSA_SIGN => {
                let n = r.mpi()?.to_vec();
                let e = r.mpi()?.to_vec();
                KeyMaterial::Rsa(RsaPublicKey { n, e })
            }
            ALGO_EDDSA_LEGACY => {
                let oid_len = usize::from(r.u8()?);
                if r.take(oid_len)? != ED25519_OID {
                    return Err(OpenPgpError::BadKey(
                        "EdDSA key on a curve other than Ed25519",
                    ));
                }
                // The point is prefixed 0x40 ("native" encoding).
                let point = r.mpi()?;
                let key = point
                    .strip_prefix(&[0x40])
                    .and_then(|k| <[u8; 32]>::try_from(k).ok())
                    .ok_or(OpenPgpError::BadKey("EdDSA point is not 0x40 || 32 bytes"))?;
                KeyMaterial::Ed25519 { algo, key }
            }
            ALGO_ED25519 => {
                let key = <[u8; 32]>::try_from(r.take(32)?).map_err(|_| OpenPgpError::Truncated)?;
                KeyMaterial::Ed25519 { algo, key }
            }
            other => {
                r.rest();
                KeyMaterial::Other(other)
            }
        };
        if !r.is_empty() {
            return Err(OpenPgpError::Malformed("trailing bytes in key packet"));
        }
        Ok(PublicKey {
            fingerprint: fingerprint_v4(body),
            created,
            material,
            user_ids: Vec::new(),
        })
    }

    /// The v4 fingerprint: SHA-1 over 0x99, the two-byte length and the key packet body
    /// (RFC 4880 12.2). SHA-1 here is the format's name for a key, not a signature hash.
    pub fn fingerprint(&self) -> [u8; 20] {
        self.fingerprint
    }

    /// The fingerprint as gpg prints it (40 upper-case hex digits).
    pub fn fingerprint_hex(&self) -> String {
        hex::encode_upper(self.fingerprint)
    }

    /// The key ID: the low 64 bits of the fingerprint.
    pub fn key_id(&self) -> [u8; 8] {
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.fingerprint[12..]);
        id
    }
}

pub(crate) fn fingerprint_v4(body: &[u8]) -> [u8; 20] {
    let mut data = Vec::with_capacity(body.len() + 3);
    data.push(0x99);
    data.extend_from_slice(&(body.len() as u16).to_be_bytes());
    data.extend_from_slice(body);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest(HashAlg::Sha1, &data));
    out
}

/// The keys a verifier trusts, e.g. the `keyPath` of a `signedBy` policy requirement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keyring {
    pub keys: Vec<PublicKey>,
}

impl Keyring {
    /// Parses binary or ASCII-armored exported public keys (one or more).
    pub fn parse(input: &[u8]) -> Result<Self, OpenPgpError> {
        if input.len() > MAX_KEYRING_LEN {
            return Err(OpenPgpError::TooLarge("keyring size"));
        }
        let binary = if armor::is_armored(input) {
            armor::dearmor(input)?
        } else {
            input.to_vec()
        };
        let mut keys: Vec<PublicKey> = Vec::new();
        for p in packet::read_packets(&binary)? {
            match p.tag {
                packet::TAG_PUBLIC_KEY => keys.push(PublicKey::from_packet_body(&p.body)?),
                packet::TAG_USER_ID => {
                    let key = keys
                        .last_mut()
                        .ok_or(OpenPgpError::Malformed("user ID before any key"))?;
                    let n = p.body.len().min(MAX_USER_ID_LEN);
                    key.user_ids
                        .push(String::from_utf8_lossy(&p.body[..n]).into_owned());
                }
                // Signatures, subkeys and the rest belong to the key before them; subkeys
                // are deliberately not trusted for verification (see the module docs).
                packet::TAG_SIGNATURE
                | packet::TAG_TRUST
                | packet::TAG_PUBLIC_SUBKEY
                | packet::TAG_USER_ATTRIBUTE
                | packet::TAG_MARKER => {
                    if keys.is_empty() {
                        return Err(OpenPgpError::Malformed("packet before any key"));
                    }
                }
                packet::TAG_SECRET_KEY | packet::TAG_SECRET_SUBKEY => {
                    return Err(OpenPgpError::Malformed(
                        "secret key material in a public keyring",
                    ));
                }
                other => {
                    return Err(OpenPgpError::Unsupported {
                        what: "packet in keyring",
                        value: u32::from(other),
                    })
                }
            }
        }
        if keys.is_empty() {
            return Err(OpenPgpError::Malformed("no public key found"));
        }
        Ok(Keyring { keys })
    }

    /// Keys that could have made a signature naming this issuer fingerprint or key ID.
    pub(crate) fn candidates<'a>(
        &'a self,
        fingerprint: Option<&'a [u8]>,
        key_id: Option<&'a [u8]>,
    ) -> impl Iterator<Item = &'a PublicKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| match (fingerprint, key_id) {
                (Some(f), _) => k.fingerprint[..] == *f,
                (None, Some(id)) => k.key_id()[..] == *id,
                (None, None) => false,
            })
    }
}
