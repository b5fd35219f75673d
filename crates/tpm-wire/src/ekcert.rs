//! Endorsement-key certificate checks: the certificate chains to a configured
//! manufacturer (or local) CA, is within its validity, and certifies exactly the EK
//! the agent presented.
//!
//! EK certificates carry TPM-specific critical extensions (subject alternative names
//! with TPM manufacturer attributes) that WebPKI verifiers refuse, so the chain is
//! checked here: signature by signature, with the crypto crate.

use crate::TpmPublic;
use ironroot_crypto::{EcCurve, EcPublicKey, HashAlg, RsaPublicKey};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

/// Longest chain we follow from the EK certificate to a root.
const MAX_CHAIN: usize = 4;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EkCertError {
    #[error("EK certificate is not valid DER X.509")]
    Malformed,
    #[error("EK certificate is outside its validity period")]
    Expired,
    #[error("EK certificate does not chain to a configured EK CA")]
    UntrustedIssuer,
    #[error("EK certificate signature does not verify")]
    BadSignature,
    #[error("EK certificate certifies a different key than the EK presented")]
    KeyMismatch,
    #[error("unsupported key or signature algorithm in EK certificate chain")]
    Unsupported,
}

/// Trusted EK CA certificates (roots and intermediates), DER.
#[derive(Debug, Clone, Default)]
pub struct EkRoots {
    certs: Vec<Vec<u8>>,
}

impl EkRoots {
    /// Loads every certificate from PEM text (several may be concatenated).
    pub fn add_pem(&mut self, pem: &[u8]) -> Result<usize, EkCertError> {
        let mut n = 0;
        for item in Pem::iter_from_buffer(pem) {
            let item = item.map_err(|_| EkCertError::Malformed)?;
            if item.label == "CERTIFICATE" {
                self.certs.push(item.contents);
                n += 1;
            }
        }
        Ok(n)
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Verifies `ek_cert_der` for `ek`, at unix time `now`.
    pub fn verify(&self, ek_cert_der: &[u8], ek: &TpmPublic, now: i64) -> Result<(), EkCertError> {
        let (_, cert) =
            X509Certificate::from_der(ek_cert_der).map_err(|_| EkCertError::Malformed)?;
        check_time(&cert, now)?;
        check_same_key(&cert, ek)?;
        let anchors: Vec<X509Certificate<'_>> = self
            .certs
            .iter()
            .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
            .collect();
        chain_to_anchor(&cert, &anchors, now, MAX_CHAIN)
    }
}

/// Succeeds when `cert` is signed by a configured certificate that is itself a root, or
/// chains on to one, or is a configured intermediate whose own issuer is not configured.
/// Several CAs may share a subject name (every swtpm local CA does), so each candidate
/// is tried by signature, not picked by name.
fn chain_to_anchor(
    cert: &X509Certificate<'_>,
    anchors: &[X509Certificate<'_>],
    now: i64,
    depth: usize,
) -> Result<(), EkCertError> {
    if depth == 0 {
        return Err(EkCertError::UntrustedIssuer);
    }
    let mut last = EkCertError::UntrustedIssuer;
    for issuer in anchors.iter().filter(|c| c.subject() == cert.issuer()) {
        let outcome = check_time(issuer, now)
            .and_then(|_| verify_signature(cert, issuer))
            .and_then(|_| {
                let self_signed = issuer.subject() == issuer.issuer();
                let issuer_known = anchors.iter().any(|c| c.subject() == issuer.issuer());
                if self_signed || !issuer_known {
                    Ok(())
                } else {
                    chain_to_anchor(issuer, anchors, now, depth - 1)
                }
            });
        match outcome {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn check_time(c: &X509Certificate<'_>, now: i64) -> Result<(), EkCertError> {
    let v = c.validity();
    if now < v.not_before.timestamp() || now > v.not_after.timestamp() {
        return Err(EkCertError::Expired);
    }
    Ok(())
}

fn check_same_key(cert: &X509Certificate<'_>, ek: &TpmPublic) -> Result<(), EkCertError> {
    let parsed = cert
        .public_key()
        .parsed()
        .map_err(|_| EkCertError::Unsupported)?;
    match (parsed, ek.rsa_key(), ek.ecc_key()) {
        (PublicKey::RSA(k), Some(rsa), _) => {
            let ours = RsaPublicKey {
                n: strip(k.modulus).to_vec(),
                e: strip(k.exponent).to_vec(),
            };
            (ours.n == rsa.n && ours.e == rsa.e)
                .then_some(())
                .ok_or(EkCertError::KeyMismatch)
        }
        (PublicKey::EC(point), _, Some(ec)) => (point.data()
            == ec
                .sec1_uncompressed()
                .map_err(|_| EkCertError::KeyMismatch)?
                .as_slice())
        .then_some(())
        .ok_or(EkCertError::KeyMismatch),
        _ => Err(EkCertError::KeyMismatch),
    }
}

fn strip(b: &[u8]) -> &[u8] {
    let first = b
        .iter()
        .position(|x| *x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[first..]
}

fn verify_signature(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> Result<(), EkCertError> {
    use x509_parser::oid_registry as oids;
    let alg = &cert.signature_algorithm.algorithm;
    let msg = cert.tbs_certificate.as_ref();
    let sig = cert.signature_value.data.as_ref();
    let parsed = issuer
        .public_key()
        .parsed()
        .map_err(|_| EkCertError::Unsupported)?;
    let hash = if *alg == oids::OID_PKCS1_SHA256WITHRSA || *alg == oids::OID_SIG_ECDSA_WITH_SHA256 {
        HashAlg::Sha256
    } else if *alg == oids::OID_PKCS1_SHA384WITHRSA || *alg == oids::OID_SIG_ECDSA_WITH_SHA384 {
        HashAlg::Sha384
    } else if *alg == oids::OID_PKCS1_SHA512WITHRSA {
        HashAlg::Sha512
    } else if *alg == oids::OID_PKCS1_SHA1WITHRSA {
        HashAlg::Sha1
    } else {
        return Err(EkCertError::Unsupported);
    };
    let ok = match parsed {
        PublicKey::RSA(k) => RsaPublicKey {
            n: strip(k.modulus).to_vec(),
            e: strip(k.exponent).to_vec(),
        }
        .verify_pkcs1(hash, msg, sig)
        .is_ok(),
        PublicKey::EC(point) => {
            let curve = match point.data().len() {
                65 => EcCurve::P256,
                97 => EcCurve::P384,
                _ => return Err(EkCertError::Unsupported),
            };
            let key = EcPublicKey::from_sec1(curve, point.data())
                .map_err(|_| EkCertError::Unsupported)?;
            key.verify_ecdsa_der(hash, msg, sig).is_ok()
        }
        _ => return Err(EkCertError::Unsupported),
    };
    ok.then_some(()).ok_or(EkCertError::BadSignature)
}
