//! Agents' certificate signing requests: parsed with x509-parser, their self-signature
//! checked with ironroot-crypto, and only the public key kept for the certificate.
//!
//! rcgen's own CSR parser would do all of this, but it turns on x509-parser's `verify`
//! feature, which links ring as a second crypto stack. The refusals are rcgen's: a signature
//! that does not verify, a signature algorithm rcgen cannot put in a certificate, an
//! extension request other than key usage, subject alternative names or standard extended
//! key usages, and subject names or alternative names rcgen could not represent.

use super::PkiError;
use rcgen::{PublicKeyData, SignatureAlgorithm};
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

/// The public key of a CSR whose self-signature verified, in the form rcgen signs.
#[derive(Debug)]
pub(super) struct CsrPublicKey {
    /// The subjectPublicKey bytes.
    raw: Vec<u8>,
    /// As rcgen does, picked by the CSR's signature algorithm, which also names the key type.
    alg: &'static SignatureAlgorithm,
}

impl PublicKeyData for CsrPublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }

    fn algorithm(&self) -> &SignatureAlgorithm {
        self.alg
    }
}

fn bad(why: &str) -> PkiError {
    PkiError::BadCsr(why.to_owned())
}

const UNPARSABLE: &str = "Could not parse certificate signing request";

/// Parses a PEM CSR, checks its self-signature and what it asks for, and returns its key.
pub(super) fn public_key_from_pem(csr_pem: &str) -> Result<CsrPublicKey, PkiError> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(csr_pem.as_bytes()).map_err(|_| bad(UNPARSABLE))?;
    let (_, csr) =
        X509CertificationRequest::from_der(&pem.contents).map_err(|_| bad(UNPARSABLE))?;
    let info = &csr.certification_request_info;
    let spki = &info.subject_pki;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid.to_id_string());
    let signer = ironroot_crypto::X509PublicKey {
        curve_oid: curve.as_deref(),
        key: &spki.subject_public_key.data,
    };
    ironroot_crypto::verify_x509_signature(
        &csr.signature_algorithm.algorithm.to_id_string(),
        &signer,
        info.raw,
        &csr.signature_value.data,
    )
    .map_err(|_| bad("signature does not verify"))?;
    let alg_oid: Vec<u64> = csr
        .signature_algorithm
        .algorithm
        .iter()
        .ok_or_else(|| bad(UNPARSABLE))?
        .collect();
    let alg =
        SignatureAlgorithm::from_oid(&alg_oid).map_err(|e| PkiError::BadCsr(e.to_string()))?;
    check_subject(&info.subject)?;
    check_requested_extensions(&csr)?;
    Ok(CsrPublicKey {
        raw: spki.subject_public_key.data.to_vec(),
        alg,
    })
}

/// rcgen takes single-valued relative names with a string value only.
fn check_subject(name: &X509Name<'_>) -> Result<(), PkiError> {
    for rdn in name.iter() {
        let [attr] = rdn.iter().collect::<Vec<_>>()[..] else {
            return Err(bad("Could not parse certificate"));
        };
        match attr.attr_value().header.tag() {
            Tag::BmpString
            | Tag::Ia5String
            | Tag::PrintableString
            | Tag::T61String
            | Tag::UniversalString
            | Tag::Utf8String => {}
            _ => return Err(bad("Could not parse certificate")),
        }
    }
    Ok(())
}

fn check_requested_extensions(csr: &X509CertificationRequest<'_>) -> Result<(), PkiError> {
    let unsupported = || bad("Unsupported extension requested in CSR");
    for ext in csr.requested_extensions().into_iter().flatten() {
        match ext {
            ParsedExtension::KeyUsage(_) => {}
            ParsedExtension::ExtendedKeyUsage(eku) if eku.other.is_empty() => {}
            ParsedExtension::SubjectAlternativeName(san) => {
                for name in &san.general_names {
                    match name {
                        GeneralName::RFC822Name(_)
                        | GeneralName::DNSName(_)
                        | GeneralName::URI(_)
                        | GeneralName::OtherName(..) => {}
                        GeneralName::IPAddress(o) if o.len() == 4 || o.len() == 16 => {}
                        GeneralName::IPAddress(o) => {
                            return Err(bad(&format!(
                                "Invalid IP address octet length of {} bytes",
                                o.len()
                            )))
                        }
                        _ => return Err(bad("Invalid subject alternative name type")),
                    }
                }
            }
            _ => return Err(unsupported()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519,
        PKCS_RSA_SHA256,
    };

    fn csr_der(key: &KeyPair, params: CertificateParams) -> Vec<u8> {
        params.serialize_request(key).unwrap().der().to_vec()
    }

    fn pem(der: &[u8]) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            lines.join("\n")
        )
    }

    #[test]
    fn p256_p384_ed25519_and_rsa_csrs_give_their_public_key() {
        for alg in [
            &PKCS_ECDSA_P256_SHA256,
            &PKCS_ECDSA_P384_SHA384,
            &PKCS_ED25519,
            &PKCS_RSA_SHA256,
        ] {
            let key = KeyPair::generate_for(alg).unwrap();
            let der = csr_der(&key, CertificateParams::new(vec!["node".into()]).unwrap());
            let got = public_key_from_pem(&pem(&der)).unwrap();
            assert_eq!(got.der_bytes(), key.public_key_raw());
            assert_eq!(got.algorithm(), alg);
        }
    }

    #[test]
    fn tampered_csr_is_refused() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "node-a");
        let mut der = csr_der(&key, params);
        // Change the signed subject after signing: "node-a" becomes "node-b".
        let at = der.windows(6).position(|w| w == b"node-a").unwrap();
        der[at + 5] = b'b';
        let err = public_key_from_pem(&pem(&der)).unwrap_err();
        assert!(matches!(err, PkiError::BadCsr(_)), "{err}");
        assert_eq!(
            err.to_string(),
            "certificate signing request rejected: signature does not verify"
        );
    }

    #[test]
    fn garbage_is_refused() {
        for input in ["", "not pem", &pem(b"\x30\x03\x02\x01\x01")] {
            let err = public_key_from_pem(input).unwrap_err();
            assert_eq!(
                err.to_string(),
                "certificate signing request rejected: Could not parse certificate signing request"
            );
        }
    }

    #[test]
    fn unsupported_extension_is_refused() {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 99999, 1],
            vec![0x05, 0x00],
        )];
        let err = public_key_from_pem(&pem(&csr_der(&key, params))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "certificate signing request rejected: Unsupported extension requested in CSR"
        );
    }
}
