//! Signatures of X.509 structures (certificates, CRLs, certificate signing requests).
//!
//! The caller parses the structure with its own X.509 parser and hands over the OIDs and
//! bytes; this module only picks the aws-lc-rs algorithm from them. It replaces
//! x509-parser's `verify` feature, which would link ring as a second crypto stack.
use crate::CryptoError;
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};

const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
const SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_WITH_SHA384: &str = "1.2.840.10045.4.3.3";
const ED25519: &str = "1.3.101.112";
const CURVE_P256: &str = "1.2.840.10045.3.1.7";
const CURVE_P384: &str = "1.3.132.0.34";

/// The signer's public key, as an X.509 SubjectPublicKeyInfo carries it.
#[derive(Debug, Clone, Copy)]
pub struct X509PublicKey<'a> {
    /// The key algorithm's parameters when they name a curve (dotted OID): EC keys only.
    pub curve_oid: Option<&'a str>,
    /// The subjectPublicKey BIT STRING's bytes: an RSAPublicKey (DER), an uncompressed SEC1
    /// point, or a raw Ed25519 key.
    pub key: &'a [u8],
}

/// Checks `signature` over `signed` (the DER of the to-be-signed part) with `signer`, for the
/// signature algorithm named by its dotted OID. Accepted: RSA PKCS#1 v1.5 with SHA-256/384/512
/// (2048 to 8192 bits), ECDSA with SHA-256/384 on P-256 or P-384, and Ed25519, which are the
/// algorithms x509-parser's `verify` accepted, less SHA-1. Anything else is `Unsupported`.
pub fn verify_x509_signature(
    signature_alg_oid: &str,
    signer: &X509PublicKey<'_>,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let alg = algorithm(signature_alg_oid, signer.curve_oid)?;
    UnparsedPublicKey::new(alg, signer.key)
        .verify(signed, signature)
        .map_err(|_| CryptoError::BadSignature)
}

fn algorithm(
    signature_alg_oid: &str,
    curve_oid: Option<&str>,
) -> Result<&'static dyn VerificationAlgorithm, CryptoError> {
    let unsupported = CryptoError::Unsupported("X.509 signature algorithm");
    Ok(match signature_alg_oid {
        SHA256_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA256,
        SHA384_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA384,
        SHA512_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA512,
        // The curve comes from the key, the digest from the signature algorithm.
        ECDSA_WITH_SHA256 => match curve_oid {
            Some(CURVE_P256) => &sig::ECDSA_P256_SHA256_ASN1,
            Some(CURVE_P384) => &sig::ECDSA_P384_SHA256_ASN1,
            _ => return Err(unsupported),
        },
        ECDSA_WITH_SHA384 => match curve_oid {
            Some(CURVE_P256) => &sig::ECDSA_P256_SHA384_ASN1,
            Some(CURVE_P384) => &sig::ECDSA_P384_SHA384_ASN1,
            _ => return Err(unsupported),
        },
        ED25519 => &sig::ED25519,
        _ => return Err(unsupported),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};

    fn ecdsa(alg: &'static sig::EcdsaSigningAlgorithm, msg: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(alg, doc.as_ref()).unwrap();
        let s = kp.sign(&rng, msg).unwrap();
        (kp.public_key().as_ref().to_vec(), s.as_ref().to_vec())
    }

    #[test]
    fn ecdsa_p256_sha256_verifies_and_a_changed_byte_does_not() {
        let (key, s) = ecdsa(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, b"tbs");
        let signer = X509PublicKey {
            curve_oid: Some(CURVE_P256),
            key: &key,
        };
        verify_x509_signature(ECDSA_WITH_SHA256, &signer, b"tbs", &s).unwrap();
        assert_eq!(
            verify_x509_signature(ECDSA_WITH_SHA256, &signer, b"tbS", &s),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn ecdsa_curve_is_taken_from_the_key() {
        let (key, s) = ecdsa(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, b"tbs");
        let p384 = X509PublicKey {
            curve_oid: Some(CURVE_P384),
            key: &key,
        };
        verify_x509_signature(ECDSA_WITH_SHA384, &p384, b"tbs", &s).unwrap();
        let claimed_p256 = X509PublicKey {
            curve_oid: Some(CURVE_P256),
            ..p384
        };
        assert_eq!(
            verify_x509_signature(ECDSA_WITH_SHA384, &claimed_p256, b"tbs", &s),
            Err(CryptoError::BadSignature)
        );
        let no_curve = X509PublicKey {
            curve_oid: None,
            ..p384
        };
        assert!(matches!(
            verify_x509_signature(ECDSA_WITH_SHA384, &no_curve, b"tbs", &s),
            Err(CryptoError::Unsupported(_))
        ));
    }

    #[test]
    fn ed25519_verifies() {
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let kp = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
        let s = kp.sign(b"tbs");
        let signer = X509PublicKey {
            curve_oid: None,
            key: kp.public_key().as_ref(),
        };
        verify_x509_signature(ED25519, &signer, b"tbs", s.as_ref()).unwrap();
        assert_eq!(
            verify_x509_signature(ED25519, &signer, b"other", s.as_ref()),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn rsa_pkcs1_sha256_verifies() {
        let kp = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let mut s = vec![0; kp.public_modulus_len()];
        kp.sign(&sig::RSA_PKCS1_SHA256, &SystemRandom::new(), b"tbs", &mut s)
            .unwrap();
        let signer = X509PublicKey {
            curve_oid: None,
            key: kp.public_key().as_ref(),
        };
        verify_x509_signature(SHA256_WITH_RSA, &signer, b"tbs", &s).unwrap();
        assert_eq!(
            verify_x509_signature(SHA384_WITH_RSA, &signer, b"tbs", &s),
            Err(CryptoError::BadSignature)
        );
    }

    #[test]
    fn sha1_and_unknown_algorithms_are_unsupported() {
        let signer = X509PublicKey {
            curve_oid: None,
            key: b"k",
        };
        for oid in ["1.2.840.113549.1.1.5", "1.2.840.10045.4.3.4", "1.2.3"] {
            assert!(matches!(
                verify_x509_signature(oid, &signer, b"tbs", b"sig"),
                Err(CryptoError::Unsupported(_))
            ));
        }
    }
}
