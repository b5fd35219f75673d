use crate::{CryptoError, EcCurve, EcPublicKey};
use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use zeroize::Zeroizing;

// DER SubjectPublicKeyInfo headers for id-ecPublicKey on each named curve, followed in
// the encoding by the 65- or 97-byte uncompressed point. DER is canonical, so every SPKI
// for an uncompressed point on these curves starts with exactly these bytes.
const SPKI_P256: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const SPKI_P384: &[u8] = &[
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];

fn agreement_alg(curve: EcCurve) -> &'static agreement::Algorithm {
    match curve {
        EcCurve::P256 => &agreement::ECDH_P256,
        EcCurve::P384 => &agreement::ECDH_P384,
    }
}

fn spki_header(curve: EcCurve) -> &'static [u8] {
    match curve {
        EcCurve::P256 => SPKI_P256,
        EcCurve::P384 => SPKI_P384,
    }
}

impl EcPublicKey {
    /// Parses a DER SubjectPublicKeyInfo holding an uncompressed P-256 or P-384 point,
    /// checking that the point is on the curve.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        for curve in [EcCurve::P256, EcCurve::P384] {
            if let Some(point) = der.strip_prefix(spki_header(curve)) {
                let key = EcPublicKey::from_sec1(curve, point)?;
                key.check_on_curve()?;
                return Ok(key);
            }
        }
        Err(CryptoError::BadKey)
    }

    /// The DER SubjectPublicKeyInfo (PEM label `PUBLIC KEY`) for this point.
    pub fn spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        let mut out = spki_header(self.curve).to_vec();
        out.extend(self.sec1_uncompressed()?);
        Ok(out)
    }

    /// Fails unless the point is a valid public key on its curve.
    pub fn check_on_curve(&self) -> Result<(), CryptoError> {
        let unparsed = UnparsedPublicKey::new(agreement_alg(self.curve), self.sec1_uncompressed()?);
        agreement::ParsedPublicKey::try_from(&unparsed)
            .map(|_| ())
            .map_err(|_| CryptoError::BadKey)
    }
}

/// A static EC private key for ECDH (P-256 or P-384), e.g. a JWE recipient key.
/// Its `Debug` output never shows key material.
pub struct EcPrivateKey {
    curve: EcCurve,
    key: PrivateKey,
}

impl std::fmt::Debug for EcPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcPrivateKey({:?})", self.curve)
    }
}

impl EcPrivateKey {
    /// Loads a PKCS#8 `PrivateKeyInfo` or a SEC1 `ECPrivateKey` (PEM labels `PRIVATE KEY`
    /// and `EC PRIVATE KEY`) on P-256 or P-384.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        for curve in [EcCurve::P256, EcCurve::P384] {
            if let Ok(key) = PrivateKey::from_private_key_der(agreement_alg(curve), der) {
                return Ok(EcPrivateKey { curve, key });
            }
        }
        Err(CryptoError::BadKey)
    }

    pub fn generate(curve: EcCurve) -> Result<Self, CryptoError> {
        let key = PrivateKey::generate(agreement_alg(curve)).map_err(|_| CryptoError::Random)?;
        Ok(EcPrivateKey { curve, key })
    }

    pub fn curve(&self) -> EcCurve {
        self.curve
    }

    /// The key as PKCS#8 DER, the only way it leaves this type.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let der: Pkcs8V1Der = self.key.as_der().map_err(|_| CryptoError::BadKey)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    pub fn public_key(&self) -> Result<EcPublicKey, CryptoError> {
        let public = self
            .key
            .compute_public_key()
            .map_err(|_| CryptoError::BadKey)?;
        EcPublicKey::from_sec1(self.curve, public.as_ref())
    }

    /// ECDH with `peer`; returns the shared secret Z (the x coordinate, fixed length).
    pub fn ecdh(&self, peer: &EcPublicKey) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if peer.curve != self.curve {
            return Err(CryptoError::BadKey);
        }
        let point = UnparsedPublicKey::new(agreement_alg(self.curve), peer.sec1_uncompressed()?);
        agreement::agree(&self.key, &point, CryptoError::BadKey, |z| {
            Ok(Zeroizing::new(z.to_vec()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecdh_ephemeral;

    #[test]
    fn static_ecdh_matches_ephemeral_side_on_both_curves() {
        for curve in [EcCurve::P256, EcCurve::P384] {
            let ours = EcPrivateKey::generate(curve).unwrap();
            let public = ours.public_key().unwrap();
            let eph = ecdh_ephemeral(&public).unwrap();
            assert_eq!(ours.ecdh(&eph.ephemeral).unwrap(), eph.z);
            assert_eq!(eph.z.len(), curve.coordinate_len());
        }
    }

    #[test]
    fn spki_and_pkcs8_round_trip() {
        for curve in [EcCurve::P256, EcCurve::P384] {
            let key = EcPrivateKey::generate(curve).unwrap();
            let public = key.public_key().unwrap();
            let spki = public.spki_der().unwrap();
            assert_eq!(EcPublicKey::from_spki_der(&spki).unwrap(), public);
            let again = EcPrivateKey::from_der(&key.to_pkcs8().unwrap()).unwrap();
            assert_eq!(again.public_key().unwrap(), public);
            assert_eq!(format!("{again:?}"), format!("EcPrivateKey({curve:?})"));
        }
    }

    #[test]
    fn point_off_curve_and_other_curve_are_rejected() {
        let key = EcPrivateKey::generate(EcCurve::P256).unwrap();
        let mut spki = key.public_key().unwrap().spki_der().unwrap();
        let last = spki.len() - 1;
        spki[last] ^= 1;
        assert_eq!(EcPublicKey::from_spki_der(&spki), Err(CryptoError::BadKey));
        let other = EcPrivateKey::generate(EcCurve::P384).unwrap();
        assert_eq!(
            key.ecdh(&other.public_key().unwrap()).unwrap_err(),
            CryptoError::BadKey
        );
    }
}
