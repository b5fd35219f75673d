//! The last good bundle on disk (`--state-dir`): the compact JWS as the hub signed it and
//! the JWKS that verified it, so that a controller restarted while the hub is down
//! re-verifies and enforces the set it last held instead of none.
//!
//! Files are written whole or not at all (a temporary file in the same directory, synced,
//! then renamed over the old one) and readable by the controller's user only (0600).

use ironroot_crypto::JwkSet;
use std::io::Write;
use std::path::{Path, PathBuf};

const BUNDLE_FILE: &str = "bundle.jws";
const JWKS_FILE: &str = "hub-jwks.json";
/// The cluster's renewed certificate and key, in one file so they change together.
const IDENTITY_FILE: &str = "cluster-identity.json";
/// A certificate chain and a key; anything larger is not one.
const MAX_IDENTITY_BYTES: u64 = 64 * 1024;
/// A JWKS holds a few keys; anything larger is not one.
const MAX_JWKS_BYTES: u64 = 256 * 1024;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is {size} bytes, more than a {what} can be")]
    TooLarge {
        path: PathBuf,
        size: u64,
        what: &'static str,
    },
    #[error("{path} is not a JWKS: {message}")]
    Jwks { path: PathBuf, message: String },
    #[error("{path} is not a cluster identity: {message}")]
    Identity { path: PathBuf, message: String },
}

/// The cluster's certificate (PEM) and its private key (PEM), as renewal keeps them
/// (wiped from memory when dropped).
#[derive(Clone, serde::Serialize, serde::Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct StoredIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for StoredIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredIdentity").finish_non_exhaustive()
    }
}

/// The state directory.
#[derive(Debug, Clone)]
pub struct BundleStore {
    dir: PathBuf,
}

impl BundleStore {
    /// The store in `dir`, created (0700) if missing.
    pub fn open(dir: &Path) -> Result<BundleStore, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
        Ok(BundleStore {
            dir: dir.to_owned(),
        })
    }

    /// The kept bundle and JWKS, when both are there.
    pub fn load(&self) -> Result<Option<(String, JwkSet)>, StoreError> {
        let Some(jws) = self.read(
            BUNDLE_FILE,
            super::bundle::MAX_BUNDLE_BYTES as u64,
            "bundle",
        )?
        else {
            return Ok(None);
        };
        let Some(jwks) = self.read(JWKS_FILE, MAX_JWKS_BYTES, "JWKS")? else {
            return Ok(None);
        };
        let jwks: JwkSet = serde_json::from_str(&jwks).map_err(|e| StoreError::Jwks {
            path: self.dir.join(JWKS_FILE),
            message: e.to_string(),
        })?;
        Ok(Some((jws.trim().to_owned(), jwks)))
    }

    /// Keeps `jws` and the `jwks` that verified it (the JWKS first: a bundle on disk is
    /// always one its neighbouring JWKS can check).
    pub fn save(&self, jws: &str, jwks: &JwkSet) -> Result<(), StoreError> {
        let jwks = serde_json::to_vec(jwks).map_err(|e| StoreError::Jwks {
            path: self.dir.join(JWKS_FILE),
            message: e.to_string(),
        })?;
        self.write(JWKS_FILE, &jwks)?;
        self.write(BUNDLE_FILE, jws.as_bytes())
    }

    /// The cluster identity the last renewal kept, if there is one.
    pub fn load_identity(&self) -> Result<Option<StoredIdentity>, StoreError> {
        let Some(text) = self.read(IDENTITY_FILE, MAX_IDENTITY_BYTES, "cluster identity")? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Identity {
                path: self.dir.join(IDENTITY_FILE),
                message: e.to_string(),
            })
    }

    /// Keeps a renewed cluster identity (certificate and key in one file, 0600).
    pub fn save_identity(&self, identity: &StoredIdentity) -> Result<(), StoreError> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(identity).map_err(|e| {
            StoreError::Identity {
                path: self.dir.join(IDENTITY_FILE),
                message: e.to_string(),
            }
        })?);
        self.write(IDENTITY_FILE, &json)
    }

    fn read(&self, name: &str, max: u64, what: &'static str) -> Result<Option<String>, StoreError> {
        let path = self.dir.join(name);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let size = match std::fs::metadata(&path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        if size > max {
            return Err(StoreError::TooLarge { path, size, what });
        }
        std::fs::read_to_string(&path).map(Some).map_err(io)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let path = self.dir.join(name);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        // tempfile creates the file 0600 on unix.
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io)?;
        tmp.write_all(bytes).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_bundle_loads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = BundleStore::open(&dir.path().join("state")).unwrap();
        assert!(store.load().unwrap().is_none());
        let key = ironroot_crypto::ServiceSigningKey::generate().unwrap();
        let jwks = JwkSet {
            keys: vec![key.jwk()],
        };
        store.save("a.b.c", &jwks).unwrap();
        store.save("d.e.f", &jwks).unwrap();
        let (jws, back) = store.load().unwrap().unwrap();
        assert_eq!(jws, "d.e.f");
        assert_eq!(back, jwks);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("state").join(BUNDLE_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the two files: no temporary file left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("state")).unwrap().count(),
            2
        );
    }
}
