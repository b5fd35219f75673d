//! Challenge nonces that any replica can check without shared state: each nonce carries
//! its expiry and a MAC over the host it was issued to, under a key every replica reads
//! from the database. Single use comes from the TPM itself: the service accepts a quote
//! only if its (resetCount, restartCount, clock) is later than every quote it accepted
//! from that host before (`Store::advance_clock`), so a replayed quote is refused.

use ironroot_crypto::{hmac, HashAlg};

/// Nonce length in bytes: 8 random, 8 expiry (big-endian unix seconds), 16 of MAC.
pub const NONCE_LEN: usize = 32;
const DOMAIN: &[u8] = b"ironroot challenge nonce v1";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    #[error("nonce not issued by this service for this host")]
    Unknown,
    #[error("nonce expired")]
    Expired,
}

pub struct NonceKey(zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceKey(..)")
    }
}

impl NonceKey {
    pub fn new(key: Vec<u8>) -> Self {
        NonceKey(zeroize::Zeroizing::new(key))
    }

    fn mac(&self, host_id: &str, head: &[u8]) -> Vec<u8> {
        let mut msg = Vec::with_capacity(DOMAIN.len() + host_id.len() + 17);
        msg.extend_from_slice(DOMAIN);
        msg.extend_from_slice(&(host_id.len() as u64).to_be_bytes());
        msg.extend_from_slice(host_id.as_bytes());
        msg.extend_from_slice(head);
        let mut tag = hmac(HashAlg::Sha256, &self.0, &msg);
        tag.truncate(NONCE_LEN - head.len());
        tag
    }

    /// A fresh nonce for `host_id`, valid until `expires_at`.
    pub fn issue(
        &self,
        host_id: &str,
        expires_at: u64,
    ) -> Result<Vec<u8>, ironroot_crypto::CryptoError> {
        let mut head = ironroot_crypto::random_bytes(8)?;
        head.extend_from_slice(&expires_at.to_be_bytes());
        let tag = self.mac(host_id, &head);
        head.extend_from_slice(&tag);
        Ok(head)
    }

    /// Checks that `nonce` was issued to `host_id` and has not expired at `now`.
    pub fn check(&self, host_id: &str, nonce: &[u8], now: u64) -> Result<(), NonceError> {
        if nonce.len() != NONCE_LEN {
            return Err(NonceError::Unknown);
        }
        let (head, tag) = nonce.split_at(16);
        if !ironroot_crypto::constant_time_eq(&self.mac(host_id, head), tag) {
            return Err(NonceError::Unknown);
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&head[8..16]);
        if u64::from_be_bytes(exp) <= now {
            return Err(NonceError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_to_host_key_and_time() {
        let k = NonceKey::new(vec![7; 32]);
        let n = k.issue("h", 100).unwrap();
        assert_eq!(n.len(), NONCE_LEN);
        assert_eq!(k.check("h", &n, 99), Ok(()));
        assert_eq!(k.check("other", &n, 99), Err(NonceError::Unknown));
        assert_eq!(k.check("h", &n, 100), Err(NonceError::Expired));
        assert_eq!(
            NonceKey::new(vec![8; 32]).check("h", &n, 99),
            Err(NonceError::Unknown)
        );
        let mut forged = n.clone();
        forged[9] ^= 1; // a later expiry without the key
        assert_eq!(k.check("h", &forged, 99), Err(NonceError::Unknown));
        assert_eq!(k.check("h", &n[..31], 99), Err(NonceError::Unknown));
    }

    #[test]
    fn fresh_every_time() {
        let k = NonceKey::new(vec![7; 32]);
        assert_ne!(k.issue("h", 100).unwrap(), k.issue("h", 100).unwrap());
    }
}
