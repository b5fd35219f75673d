use crate::{CryptoError, HashAlg};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeySize, OaepAlgorithm, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
    OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
};
use zeroize::Zeroizing;

fn oaep_alg(hash: HashAlg) -> &'static OaepAlgorithm {
    match hash {
        HashAlg::Sha1 => &OAEP_SHA1_MGF1SHA1,
        HashAlg::Sha256 => &OAEP_SHA256_MGF1SHA256,
        HashAlg::Sha384 => &OAEP_SHA384_MGF1SHA384,
        HashAlg::Sha512 => &OAEP_SHA512_MGF1SHA512,
    }
}

/// An RSA private key (2048 to 8192 bits) used to decrypt RSA-OAEP, e.g. a JWE recipient
/// key. Its `Debug` output never shows key material.
pub struct RsaPrivateKey {
    private: PrivateDecryptingKey,
    oaep: OaepPrivateDecryptingKey,
}

impl std::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPrivateKey({} bits)", self.bits())
    }
}

impl RsaPrivateKey {
    fn new(private: PrivateDecryptingKey) -> Result<Self, CryptoError> {
        let oaep =
            OaepPrivateDecryptingKey::new(private.clone()).map_err(|_| CryptoError::BadKey)?;
        Ok(RsaPrivateKey { private, oaep })
    }

    /// Loads a PKCS#8 `PrivateKeyInfo` (PEM label `PRIVATE KEY`).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, CryptoError> {
        Self::new(PrivateDecryptingKey::from_pkcs8(der).map_err(|_| CryptoError::BadKey)?)
    }

    /// Loads a PKCS#1 `RSAPrivateKey` (PEM label `RSA PRIVATE KEY`).
    pub fn from_pkcs1(der: &[u8]) -> Result<Self, CryptoError> {
        // The decrypting key type only reads PKCS#8, so go through the signing key type,
        // which reads PKCS#1 and writes PKCS#8.
        let pair = aws_lc_rs::rsa::KeyPair::from_der(der).map_err(|_| CryptoError::BadKey)?;
        let pkcs8: Pkcs8V1Der = pair.as_der().map_err(|_| CryptoError::BadKey)?;
        Self::from_pkcs8(&Zeroizing::new(pkcs8.as_ref().to_vec()))
    }

    /// Generates a fresh key of 2048, 3072 or 4096 bits.
    pub fn generate(bits: usize) -> Result<Self, CryptoError> {
        let size = match bits {
            2048 => KeySize::Rsa2048,
            3072 => KeySize::Rsa3072,
            4096 => KeySize::Rsa4096,
            _ => return Err(CryptoError::Unsupported("RSA key size")),
        };
        Self::new(PrivateDecryptingKey::generate(size).map_err(|_| CryptoError::Random)?)
    }

    /// The key as PKCS#8 DER, the only way it leaves this type.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let der: Pkcs8V1Der = self.private.as_der().map_err(|_| CryptoError::BadKey)?;
        Ok(Zeroizing::new(der.as_ref().to_vec()))
    }

    /// The public half as DER SubjectPublicKeyInfo (PEM label `PUBLIC KEY`).
    pub fn public_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        let der: PublicKeyX509Der = self
            .private
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::BadKey)?;
        Ok(der.as_ref().to_vec())
    }

    pub fn bits(&self) -> usize {
        self.private.key_size_bits()
    }

    /// RSAES-OAEP decryption with MGF1 over the same hash and an empty label.
    pub fn decrypt_oaep(
        &self,
        hash: HashAlg,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut out = Zeroizing::new(vec![0u8; self.oaep.min_output_size()]);
        let len = self
            .oaep
            .decrypt(oaep_alg(hash), ciphertext, &mut out, None)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

/// RSAES-OAEP encryption (MGF1 over the same hash, empty label) to a public key given as
/// DER SubjectPublicKeyInfo.
pub fn rsa_oaep_encrypt_spki(
    spki_der: &[u8],
    hash: HashAlg,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let key = PublicEncryptingKey::from_der(spki_der).map_err(|_| CryptoError::BadKey)?;
    let key = OaepPublicEncryptingKey::new(key).map_err(|_| CryptoError::BadKey)?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep_alg(hash), plaintext, &mut out, None)
        .map_err(|_| CryptoError::Encrypt)?
        .len();
    out.truncate(len);
    Ok(out)
}

/// Whether `spki_der` is an RSA SubjectPublicKeyInfo that aws-lc-rs accepts for OAEP.
pub fn is_rsa_spki(spki_der: &[u8]) -> bool {
    PublicEncryptingKey::from_der(spki_der).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oaep_round_trip_sha1_and_sha256_and_wrong_hash_fails() {
        let key = RsaPrivateKey::generate(2048).unwrap();
        let spki = key.public_spki_der().unwrap();
        assert!(is_rsa_spki(&spki));
        for hash in [HashAlg::Sha1, HashAlg::Sha256] {
            let ct = rsa_oaep_encrypt_spki(&spki, hash, b"content key").unwrap();
            assert_eq!(
                key.decrypt_oaep(hash, &ct).unwrap().as_slice(),
                b"content key"
            );
        }
        let ct = rsa_oaep_encrypt_spki(&spki, HashAlg::Sha1, b"k").unwrap();
        assert_eq!(
            key.decrypt_oaep(HashAlg::Sha256, &ct),
            Err(CryptoError::Decrypt)
        );
    }

    #[test]
    fn pkcs8_round_trip_and_debug_hides_key() {
        let key = RsaPrivateKey::generate(2048).unwrap();
        let again = RsaPrivateKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.public_spki_der(), key.public_spki_der());
        assert_eq!(format!("{again:?}"), "RsaPrivateKey(2048 bits)");
        assert_eq!(
            RsaPrivateKey::from_pkcs8(b"junk").unwrap_err(),
            CryptoError::BadKey
        );
        assert_eq!(
            RsaPrivateKey::generate(1024).unwrap_err(),
            CryptoError::Unsupported("RSA key size")
        );
    }
}
