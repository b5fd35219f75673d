//! Envelope encryption of key material at rest: each key is sealed with AES-256-GCM
//! under the broker's master key, its key id as associated data (so a sealed blob moved
//! to another key's row does not open). The master key is a 32-byte file, created once
//! with mode 0600 (`--broker-master-key`, default `broker-master.key` in the data
//! directory); replicas must share it, as they share the report-signing key.

use zeroize::Zeroizing;

const IV: usize = 12;
const TAG: usize = 16;

pub(crate) struct MasterKey(Zeroizing<Vec<u8>>);

impl MasterKey {
    /// Loads the master key at `path`, creating it (atomically, once) if it is missing.
    pub fn load_or_create(path: &std::path::Path) -> Result<MasterKey, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = ironroot_crypto::random_bytes(32).map_err(|e| e.to_string())?;
                crate::config::publish_secret_once(path, &fresh).map_err(|e| e.to_string())?
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        MasterKey::from_bytes(bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn from_bytes(bytes: Vec<u8>) -> Result<MasterKey, String> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() != 32 {
            return Err(format!(
                "a master key is 32 bytes, this file has {}",
                bytes.len()
            ));
        }
        Ok(MasterKey(bytes))
    }

    /// `iv || ciphertext || tag`.
    pub fn seal(&self, key_id: &str, material: &[u8]) -> Result<Vec<u8>, String> {
        let s = ironroot_crypto::aes_gcm_seal(&self.0, key_id.as_bytes(), material)
            .map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(IV + s.ciphertext.len() + TAG);
        out.extend_from_slice(&s.iv);
        out.extend_from_slice(&s.ciphertext);
        out.extend_from_slice(&s.tag);
        Ok(out)
    }

    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        if sealed.len() < IV + TAG {
            return Err("sealed key too short".into());
        }
        let (iv, rest) = sealed.split_at(IV);
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        ironroot_crypto::aes_gcm_open(&self.0, iv, key_id.as_bytes(), ct, tag)
            .map_err(|_| "the sealed key does not open under this master key".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_material_opens_only_for_its_key_id_and_master() {
        let m = MasterKey::from_bytes(vec![1; 32]).unwrap();
        let sealed = m.seal("k1", b"material").unwrap();
        assert_eq!(m.open("k1", &sealed).unwrap().as_slice(), b"material");
        assert!(m.open("k2", &sealed).is_err(), "moved to another key's row");
        let other = MasterKey::from_bytes(vec![2; 32]).unwrap();
        assert!(other.open("k1", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[14] ^= 1;
        assert!(m.open("k1", &flipped).is_err());
        assert!(MasterKey::from_bytes(vec![0; 31]).is_err());
    }
}
