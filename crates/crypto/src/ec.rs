use crate::{CryptoError, HashAlg};
use aws_lc_rs::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey as AgreementKey};
use aws_lc_rs::signature::{self as sig, EcdsaVerificationAlgorithm, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// NIST curves that TPM endorsement and attestation keys use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EcCurve {
    P256,
    P384,
}

impl EcCurve {
    /// Size of one coordinate in bytes.
    pub const fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
        }
    }
}

/// An elliptic-curve public point as a TPM public area carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcPublicKey {
    pub curve: EcCurve,
    pub x: Vec<u8>,
    pub y: Vec<u8>,
}

impl EcPublicKey {
    /// The uncompressed SEC1 encoding `04 || x || y`, coordinates left-padded.
    pub fn sec1_uncompressed(&self) -> Result<Vec<u8>, CryptoError> {
        let n = self.curve.coordinate_len();
        let mut out = vec![4u8];
        out.extend(pad_left(&self.x, n)?);
        out.extend(pad_left(&self.y, n)?);
        Ok(out)
    }

    /// Verifies a DER-encoded ECDSA signature, as X.509 certificates carry them.
    pub fn verify_ecdsa_der(
        &self,
        hash: HashAlg,
        message: &[u8],
        der: &[u8],
    ) -> Result<(), CryptoError> {
        let alg: &'static EcdsaVerificationAlgorithm = match (self.curve, hash) {
            (EcCurve::P256, HashAlg::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
            (EcCurve::P256, HashAlg::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
            (EcCurve::P384, HashAlg::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
            (EcCurve::P384, HashAlg::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
            _ => return Err(CryptoError::Unsupported("ECDSA curve and hash combination")),
        };
        UnparsedPublicKey::new(alg, self.sec1_uncompressed()?)
            .verify(message, der)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// Parses an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_sec1(curve: EcCurve, point: &[u8]) -> Result<Self, CryptoError> {
        let n = curve.coordinate_len();
        if point.len() != 1 + 2 * n || point[0] != 4 {
            return Err(CryptoError::BadKey);
        }
        Ok(EcPublicKey {
            curve,
            x: point[1..1 + n].to_vec(),
            y: point[1 + n..].to_vec(),
        })
    }

    /// Verifies an ECDSA signature given as the two integers `r` and `s` (TPMS_SIGNATURE_ECC).
    pub fn verify_ecdsa(
        &self,
        hash: HashAlg,
        message: &[u8],
        r: &[u8],
        s: &[u8],
    ) -> Result<(), CryptoError> {
        let alg: &'static EcdsaVerificationAlgorithm = match (self.curve, hash) {
            (EcCurve::P256, HashAlg::Sha256) => &sig::ECDSA_P256_SHA256_FIXED,
            (EcCurve::P384, HashAlg::Sha384) => &sig::ECDSA_P384_SHA384_FIXED,
            _ => return Err(CryptoError::Unsupported("ECDSA curve and hash combination")),
        };
        let n = self.curve.coordinate_len();
        let mut fixed = pad_left(r, n).map_err(|_| CryptoError::BadSignature)?;
        fixed.extend(pad_left(s, n).map_err(|_| CryptoError::BadSignature)?);
        UnparsedPublicKey::new(alg, self.sec1_uncompressed()?)
            .verify(message, &fixed)
            .map_err(|_| CryptoError::BadSignature)
    }
}

/// The result of an ephemeral ECDH with a peer key: our ephemeral public point and the
/// shared secret `Z` (the x coordinate), as TPM2_MakeCredential's seed derivation needs.
pub struct EphemeralAgreement {
    pub ephemeral: EcPublicKey,
    pub z: zeroize::Zeroizing<Vec<u8>>,
}

/// Runs ECDH between a fresh ephemeral key and `peer`.
pub fn ecdh_ephemeral(peer: &EcPublicKey) -> Result<EphemeralAgreement, CryptoError> {
    let alg = match peer.curve {
        EcCurve::P256 => &agreement::ECDH_P256,
        EcCurve::P384 => &agreement::ECDH_P384,
    };
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let private = EphemeralPrivateKey::generate(alg, &rng).map_err(|_| CryptoError::Random)?;
    let public = private
        .compute_public_key()
        .map_err(|_| CryptoError::BadKey)?;
    let n = peer.curve.coordinate_len();
    let p = public.as_ref();
    if p.len() != 1 + 2 * n {
        return Err(CryptoError::BadKey);
    }
    let ephemeral = EcPublicKey {
        curve: peer.curve,
        x: p[1..1 + n].to_vec(),
        y: p[1 + n..].to_vec(),
    };
    let peer_point = AgreementKey::new(alg, peer.sec1_uncompressed()?);
    let z =
        agreement::agree_ephemeral(private, peer_point, CryptoError::BadKey, |z| Ok(z.to_vec()))?;
    Ok(EphemeralAgreement {
        ephemeral,
        z: zeroize::Zeroizing::new(z),
    })
}

fn pad_left(v: &[u8], n: usize) -> Result<Vec<u8>, CryptoError> {
    let first = v.iter().position(|b| *b != 0).unwrap_or(v.len());
    let v = &v[first..];
    if v.len() > n {
        return Err(CryptoError::BadKey);
    }
    let mut out = vec![0u8; n - v.len()];
    out.extend_from_slice(v);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    #[test]
    fn ecdsa_round_trip_and_tamper() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let p = kp.public_key().as_ref();
        let key = EcPublicKey {
            curve: EcCurve::P256,
            x: p[1..33].to_vec(),
            y: p[33..].to_vec(),
        };
        let s = kp.sign(&rng, b"attest").unwrap();
        let s = s.as_ref();
        assert!(key
            .verify_ecdsa(HashAlg::Sha256, b"attest", &s[..32], &s[32..])
            .is_ok());
        assert!(key
            .verify_ecdsa(HashAlg::Sha256, b"attesT", &s[..32], &s[32..])
            .is_err());
    }

    #[test]
    fn ecdh_gives_same_secret_both_ways() {
        let peer_priv = EphemeralPrivateKey::generate(
            &agreement::ECDH_P256,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let pp = peer_priv.compute_public_key().unwrap();
        let p = pp.as_ref();
        let peer = EcPublicKey {
            curve: EcCurve::P256,
            x: p[1..33].to_vec(),
            y: p[33..].to_vec(),
        };
        let ours = ecdh_ephemeral(&peer).unwrap();
        let back = AgreementKey::new(
            &agreement::ECDH_P256,
            ours.ephemeral.sec1_uncompressed().unwrap(),
        );
        let z2 = agreement::agree_ephemeral(peer_priv, back, (), |z| Ok(z.to_vec())).unwrap();
        assert_eq!(*ours.z, z2);
    }
}
