//! What the verifier trusts: cosign public keys (each with the label reports name it by),
//! an OpenPGP keyring, and the identity rule a signature's claim must meet.

use crate::cosign::{CosignError, CosignPublicKey};
use crate::identity::IdentityRule;
use crate::openpgp::Keyring;

/// A trusted cosign public key and how reports name it.
#[derive(Debug, Clone)]
pub struct TrustedCosignKey {
    pub key: CosignPublicKey,
    /// `NAME (sha256:<hex of the DER public key>)`
    pub label: String,
}

impl TrustedCosignKey {
    /// Reads a PEM public key; `name` is where it came from (the key file), for reports.
    pub fn from_pem(pem: &[u8], name: &str) -> Result<TrustedCosignKey, CosignError> {
        let key = CosignPublicKey::from_pem(pem)?;
        let (_, der) = crate::pem::decode(pem, &["PUBLIC KEY"])?;
        let id = hex::encode(ironroot_crypto::digest(
            ironroot_crypto::HashAlg::Sha256,
            &der,
        ));
        Ok(TrustedCosignKey {
            key,
            label: format!("{name} (sha256:{id})"),
        })
    }
}

/// Every key a signature may be checked against, and the identity rule.
pub struct Trust<'a> {
    pub cosign: &'a [TrustedCosignKey],
    pub keyring: Option<&'a Keyring>,
    pub rule: IdentityRule,
}
