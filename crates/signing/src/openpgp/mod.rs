//! containers/image "simple signing" with OpenPGP: a minimal, hand-written OpenPGP subset.
//!
//! Why hand-written: the well-kept Rust OpenPGP implementations (sequoia-openpgp, rPGP)
//! each bring their own crypto stack (nettle/RustCrypto), which style item 2 rules out:
//! ironroot has one provider, aws-lc-rs, behind `ironroot-crypto`. Simple signing needs only
//! a small, fixed part of RFC 4880 / RFC 9580 (v4): read public keys and their fingerprints,
//! verify the one-signature message `gpg --sign` writes, and write the same for an Ed25519
//! key. gpg checks that subset in both directions in this crate's tests.
//!
//! Supported: v4 public keys with RSA (algorithms 1 and 3), EdDSA-legacy Ed25519 (22) and
//! Ed25519 (27); signatures of type 0x00 (binary document) hashed with SHA-256, SHA-384 or
//! SHA-512. Refused, failing closed: MD5, SHA-1 and every other hash; v3/v5/v6 packets;
//! text-mode signatures; messages with more than one signature; critical subpackets we do
//! not understand; subkeys (a signature must come from a primary key in the keyring);
//! compressed data other than ZIP/ZLIB or inflating beyond [`MAX_INFLATED_LEN`].
//!
//! Not done here: checking key self-signatures, revocation or expiry. The keyring is the
//! trust anchor the administrator configured, as in containers/image's `signedBy` policy.

mod armor;
mod key;
mod message;
mod packet;
mod signer;

pub use key::{Keyring, PublicKey};
pub use message::{verify_message, VerifiedMessage, MAX_INFLATED_LEN, MAX_MESSAGE_LEN};
pub use signer::{OpenPgpSigningKey, PRIVATE_KEY_LABEL};

/// Errors from parsing or verifying OpenPGP data. Every input is untrusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenPgpError {
    #[error("OpenPGP data is truncated")]
    Truncated,
    #[error("OpenPGP data exceeds the limit on {0}")]
    TooLarge(&'static str),
    #[error("malformed OpenPGP data: {0}")]
    Malformed(&'static str),
    #[error("invalid ASCII armor")]
    Armor,
    #[error("unsupported OpenPGP {what}: {value}")]
    Unsupported { what: &'static str, value: u32 },
    #[error(
        "signature hash algorithm {0} is too weak or unknown; only SHA-256/384/512 are accepted"
    )]
    WeakHash(u8),
    #[error("signed by key {issuer}, which is not in the trusted keyring")]
    UnknownSigner { issuer: String },
    #[error("signature does not verify")]
    BadSignature,
    #[error("invalid key: {0}")]
    BadKey(&'static str),
    #[error("signed payload: {0}")]
    Payload(#[from] crate::payload::PayloadError),
    #[error("private key file: {0}")]
    Pem(#[from] crate::pem::PemError),
    #[error("crypto: {0}")]
    Crypto(ironroot_crypto::CryptoError),
}
