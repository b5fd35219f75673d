//! The master key as a 32-byte file beside the database (the default backend).

use super::{MasterKeyError, DOES_NOT_OPEN, IV, TAG};
use zeroize::Zeroizing;

pub(crate) struct FileKey(Zeroizing<Vec<u8>>);

impl FileKey {
    /// Loads the key at `path`, creating it (atomically, once) if it is missing.
    pub fn load_or_create(path: &std::path::Path) -> Result<FileKey, MasterKeyError> {
        let err = |reason: String| MasterKeyError::File {
            path: path.display().to_string(),
            reason,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = Zeroizing::new(
                    ironroot_crypto::random_bytes(32).map_err(|e| err(e.to_string()))?,
                );
                crate::config::publish_secret_once(path, &fresh).map_err(|e| err(e.to_string()))?
            }
            Err(e) => return Err(err(e.to_string())),
        };
        FileKey::from_bytes(bytes).map_err(err)
    }

    fn from_bytes(bytes: Vec<u8>) -> Result<FileKey, String> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() != 32 {
            return Err(format!(
                "a master key is 32 bytes, this file has {}",
                bytes.len()
            ));
        }
        Ok(FileKey(bytes))
    }

    pub fn seal(&self, key_id: &str, material: &[u8]) -> Result<Vec<u8>, String> {
        let s = ironroot_crypto::aes_gcm_seal(&self.0, key_id.as_bytes(), material)
            .map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(IV + s.ciphertext.len() + TAG);
        out.extend_from_slice(&s.iv);
        out.extend_from_slice(&s.ciphertext);
        out.extend_from_slice(&s.tag);
        Ok(out)
    }

    /// `sealed` is at least `IV + TAG` bytes (checked by the caller).
    pub fn open(&self, key_id: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let (iv, rest) = sealed.split_at(IV);
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        ironroot_crypto::aes_gcm_open(&self.0, iv, key_id.as_bytes(), ct, tag)
            .map_err(|_| DOES_NOT_OPEN.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Backend, MasterKey};
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey(Backend::File(FileKey::from_bytes(vec![byte; 32]).unwrap()))
    }

    #[test]
    fn sealed_material_opens_only_for_its_key_id_and_master() {
        let m = key(1);
        let sealed = m.seal("k1", b"material").unwrap();
        assert_eq!(sealed.len(), IV + b"material".len() + TAG);
        assert_eq!(m.open("k1", &sealed).unwrap().as_slice(), b"material");
        assert!(m.open("k2", &sealed).is_err(), "moved to another key's row");
        assert!(key(2).open("k1", &sealed).is_err());
        let mut flipped = sealed.clone();
        flipped[14] ^= 1;
        assert!(m.open("k1", &flipped).is_err());
        assert!(m.open("k1", &sealed[..IV + TAG - 1]).is_err(), "too short");
        assert!(FileKey::from_bytes(vec![0; 31]).is_err());
    }

    #[test]
    fn a_missing_file_is_created_once_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broker-master.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        let sealed = first.seal("k", b"m").unwrap();
        let again = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(again.open("k", &sealed).unwrap().as_slice(), b"m");
        std::fs::write(&path, [0u8; 5]).unwrap();
        let err = MasterKey::load_or_create(&path).err().unwrap();
        assert!(err.to_string().contains("32 bytes"), "{err}");
    }
}
