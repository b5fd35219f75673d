//! A new client key and its certificate signing request, for whatever asks the service
//! for a certificate with its own key (a cluster registering or renewing, the CLI). The
//! key never leaves the caller; the service sets the certificate's subject itself.

use crate::ClientError;
use zeroize::Zeroizing;

/// A new P-256 key (PKCS#8 PEM) and a CSR for it naming `common_name`.
pub fn new_key_and_csr(common_name: &str) -> Result<(Zeroizing<String>, String), ClientError> {
    let fail = |e: rcgen::Error| ClientError::Csr(e.to_string());
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let csr = params
        .serialize_request(&key)
        .and_then(|r| r.pem())
        .map_err(fail)?;
    Ok((Zeroizing::new(key.serialize_pem()), csr))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_csr_is_signed_by_a_new_key_each_time() {
        let (k1, c1) = super::new_key_and_csr("cl").unwrap();
        let (k2, _) = super::new_key_and_csr("cl").unwrap();
        assert!(
            k1.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{}",
            k1.as_str()
        );
        assert!(c1.starts_with("-----BEGIN CERTIFICATE REQUEST-----"));
        assert_ne!(k1.as_str(), k2.as_str());
    }
}
