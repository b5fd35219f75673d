//! Fresh, single-use, expiring challenge nonces.

use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many outstanding nonces per host: a host asking for more loses its oldest.
const PER_HOST: usize = 4;
/// Nonce length in bytes (the TPM's qualifying data holds up to a digest's size).
pub const NONCE_LEN: usize = 32;

/// Outstanding nonces of one host: (nonce, expiry in unix seconds), oldest first.
type Outstanding = Vec<(Vec<u8>, u64)>;

#[derive(Debug, Default)]
pub struct NonceStore {
    inner: Mutex<HashMap<String, Outstanding>>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    #[error("nonce unknown or already used")]
    Unknown,
    #[error("nonce expired")]
    Expired,
}

impl NonceStore {
    pub fn issue(&self, host_id: &str, nonce: Vec<u8>, expires_at: u64, now: u64) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.entry(host_id.to_owned()).or_default();
        list.retain(|(_, exp)| *exp > now);
        if list.len() >= PER_HOST {
            list.remove(0);
        }
        list.push((nonce, expires_at));
    }

    /// Consumes `nonce` for `host_id`; it cannot be used again whatever the outcome.
    pub fn take(&self, host_id: &str, nonce: &[u8], now: u64) -> Result<(), NonceError> {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get_mut(host_id).ok_or(NonceError::Unknown)?;
        let pos = list
            .iter()
            .position(|(n, _)| ironroot_crypto::constant_time_eq(n, nonce))
            .ok_or(NonceError::Unknown)?;
        let (_, exp) = list.remove(pos);
        if exp <= now {
            return Err(NonceError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use() {
        let s = NonceStore::default();
        s.issue("h", vec![1; 32], 100, 0);
        assert_eq!(s.take("h", &[1; 32], 10), Ok(()));
        assert_eq!(s.take("h", &[1; 32], 10), Err(NonceError::Unknown));
    }

    #[test]
    fn expired_and_foreign() {
        let s = NonceStore::default();
        s.issue("h", vec![1; 32], 100, 0);
        assert_eq!(s.take("other", &[1; 32], 10), Err(NonceError::Unknown));
        assert_eq!(s.take("h", &[1; 32], 100), Err(NonceError::Expired));
    }

    #[test]
    fn bounded_per_host() {
        let s = NonceStore::default();
        for i in 0..10u8 {
            s.issue("h", vec![i; 32], 100, 0);
        }
        assert_eq!(s.take("h", &[0; 32], 1), Err(NonceError::Unknown));
        assert_eq!(s.take("h", &[9; 32], 1), Ok(()));
    }
}
