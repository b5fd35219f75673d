//! Certificates from PEM: the service CA a client trusts (every certificate must parse),
//! and a system CA bundle (where one odd entry must not make the rest unusable).

use crate::TlsError;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Every certificate in `pem`; an unreadable one is an error.
pub fn certs_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map_err(|e| TlsError::Pem(e.to_string())))
        .collect()
}

/// A trust store holding every certificate in `pem` (none is allowed: such a store
/// trusts nobody). An unreadable or unusable certificate is an error.
pub fn roots_from_pem(pem: &[u8]) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certs_from_pem(pem)? {
        roots
            .add(cert)
            .map_err(|e| TlsError::Anchor(e.to_string()))?;
    }
    Ok(roots)
}

/// A trust store from a system CA bundle: entries that do not parse or are not usable
/// anchors are skipped, as every TLS library does with such bundles.
pub fn roots_from_bundle(pem: &[u8]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem).flatten() {
        let _ = roots.add(cert);
    }
    roots
}

/// Where the system's CA bundle is: `$SSL_CERT_FILE`, else Debian's.
pub fn system_bundle_path() -> std::path::PathBuf {
    std::env::var_os("SSL_CERT_FILE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into())
}

/// The system's trust store, for reaching the public internet (feeds, registries,
/// signature storage). A bundle that cannot be read is an error naming it: a client
/// that trusts nobody would only fail later and less clearly.
pub fn system_roots() -> Result<RootCertStore, TlsError> {
    let path = system_bundle_path();
    let pem = std::fs::read(&path)
        .map_err(|e| TlsError::Pem(format!("CA bundle {}: {e}", path.display())))?;
    Ok(roots_from_bundle(&pem))
}
