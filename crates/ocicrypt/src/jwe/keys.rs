use super::{JweAlg, JweError};
use ironroot_crypto::{is_rsa_spki, EcPrivateKey, EcPublicKey, RsaPrivateKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};

/// A recipient's private key: RSA (2048 to 8192 bits) or EC (P-256, P-384).
#[derive(Debug)]
pub enum JwePrivateKey {
    Rsa(RsaPrivateKey),
    Ec(EcPrivateKey),
}

impl JwePrivateKey {
    /// Reads a PEM `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
    /// `EC PRIVATE KEY` (SEC1). Encrypted PEM is not supported.
    pub fn from_pem(pem: &[u8]) -> Result<Self, JweError> {
        let der = PrivateKeyDer::from_pem_slice(pem).map_err(|_| JweError::BadKey)?;
        match &der {
            PrivateKeyDer::Pkcs1(k) => Ok(JwePrivateKey::Rsa(
                RsaPrivateKey::from_pkcs1(k.secret_pkcs1_der()).map_err(|_| JweError::BadKey)?,
            )),
            PrivateKeyDer::Sec1(k) => Ok(JwePrivateKey::Ec(
                EcPrivateKey::from_der(k.secret_sec1_der()).map_err(|_| JweError::BadKey)?,
            )),
            PrivateKeyDer::Pkcs8(k) => Self::from_pkcs8(k.secret_pkcs8_der()),
            _ => Err(JweError::BadKey),
        }
    }

    /// Reads a PKCS#8 DER private key of either type.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, JweError> {
        if let Ok(k) = RsaPrivateKey::from_pkcs8(der) {
            return Ok(JwePrivateKey::Rsa(k));
        }
        EcPrivateKey::from_der(der)
            .map(JwePrivateKey::Ec)
            .map_err(|_| JweError::BadKey)
    }

    /// The matching public key, with the algorithm ocicrypt would use for it.
    pub fn public_key(&self) -> Result<JwePublicKey, JweError> {
        let spki = match self {
            JwePrivateKey::Rsa(k) => k.public_spki_der()?,
            JwePrivateKey::Ec(k) => k.public_key()?.spki_der()?,
        };
        JwePublicKey::from_spki_der(&spki)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PublicKind {
    /// DER SubjectPublicKeyInfo, already checked to parse as RSA.
    Rsa(Vec<u8>),
    Ec(EcPublicKey),
}

/// A recipient's public key and the key-management algorithm to wrap for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwePublicKey {
    pub(super) kind: PublicKind,
    pub(super) alg: JweAlg,
}

impl JwePublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as `skopeo --encryption-key jwe:`
    /// takes it.
    pub fn from_pem(pem: &[u8]) -> Result<Self, JweError> {
        let der = SubjectPublicKeyInfoDer::from_pem_slice(pem).map_err(|_| JweError::BadKey)?;
        Self::from_spki_der(der.as_ref())
    }

    /// Reads a DER SubjectPublicKeyInfo. RSA keys get `RSA-OAEP` and EC keys
    /// `ECDH-ES+A256KW`, ocicrypt's choices; see [`JwePublicKey::with_alg`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, JweError> {
        if let Ok(ec) = EcPublicKey::from_spki_der(der) {
            return Ok(JwePublicKey {
                kind: PublicKind::Ec(ec),
                alg: JweAlg::EcdhEsA256Kw,
            });
        }
        if is_rsa_spki(der) {
            return Ok(JwePublicKey {
                kind: PublicKind::Rsa(der.to_vec()),
                alg: JweAlg::RsaOaep,
            });
        }
        Err(JweError::BadKey)
    }

    /// Picks another key-management algorithm of the same key type.
    pub fn with_alg(mut self, alg: JweAlg) -> Result<Self, JweError> {
        let fits = alg.is_rsa() == matches!(self.kind, PublicKind::Rsa(_));
        if !fits {
            return Err(JweError::AlgorithmMismatch(alg));
        }
        self.alg = alg;
        Ok(self)
    }

    pub fn alg(&self) -> JweAlg {
        self.alg
    }
}
