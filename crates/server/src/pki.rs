//! The service's own PKI: a CA created on first start, the server's TLS certificate,
//! and the client certificates that enrolled agents use for mutual TLS.

mod csr;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("certificate signing request rejected: {0}")]
    BadCsr(String),
}

/// A name no other process or thread will pick for a temporary file: the process id and a
/// counter keep threads and processes on one host apart, the random part replicas on other
/// hosts that share the data directory.
fn unique() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let r = ironroot_crypto::random_bytes(8).unwrap_or_default();
    format!("{}.{n}.{}", std::process::id(), hex::encode(r))
}

/// Loads the CA from `dir`, or creates it. Replicas sharing a data directory may start
/// at the same time: the key is published with an atomic link, so exactly one replica
/// creates it and the others load the winner's key and certificate.
fn load_or_create_ca(dir: &Path) -> Result<(KeyPair, String), PkiError> {
    let key_path = dir.join("ca.key");
    let cert_path = dir.join("ca.pem");
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| PkiError::Io { path, source }
    };
    for _ in 0..100 {
        match (read(&key_path)?, read(&cert_path)?) {
            (Some(k), Some(c)) => return Ok((KeyPair::from_pem(&k)?, c)),
            (None, _) => {
                let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
                let tmp = dir.join(format!("ca.key.{}.tmp", unique()));
                write_private(&tmp, &key.serialize_pem())?;
                let linked = std::fs::hard_link(&tmp, &key_path);
                let _ = std::fs::remove_file(&tmp);
                match linked {
                    Ok(()) => {
                        let pem = ca_params()?.self_signed(&key)?.pem();
                        let tmp = dir.join(format!("ca.pem.{}.tmp", unique()));
                        std::fs::write(&tmp, &pem).map_err(io(&tmp))?;
                        std::fs::rename(&tmp, &cert_path).map_err(io(&cert_path))?;
                        return Ok((key, pem));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io(&key_path)(e)),
                }
            }
            // Another replica published the key and is writing the certificate.
            (Some(_), None) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    Err(PkiError::Io {
        path: cert_path.display().to_string(),
        source: std::io::Error::other("ca.key exists but ca.pem never appeared"),
    })
}

/// The service CA and the server's leaf certificate, loaded from or written to `dir`.
pub struct ServicePki {
    ca_cert: Certificate,
    ca_key: KeyPair,
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

impl std::fmt::Debug for ServicePki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicePki").finish_non_exhaustive()
    }
}

fn read(path: &Path) -> Result<Option<String>, PkiError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(PkiError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn write_private(path: &Path, contents: &str) -> Result<(), PkiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| PkiError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    f.write_all(contents.as_bytes()).map_err(io)
}

fn ca_params() -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name
        .push(DnType::CommonName, "ironroot service CA");
    p.distinguished_name
        .push(DnType::OrganizationName, "ironroot");
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(p)
}

impl ServicePki {
    /// Loads the CA from `dir` (creating it on first start) and issues a fresh server
    /// certificate for `names` (DNS names or IP addresses).
    pub fn load_or_create(dir: &Path, names: &[String]) -> Result<ServicePki, PkiError> {
        let (ca_key, ca_pem) = load_or_create_ca(dir)?;
        // rcgen needs a Certificate value to sign with; re-signing the same parameters with
        // the same key yields an issuer with the same name and key as the stored CA.
        let ca_cert = ca_params()?.self_signed(&ca_key)?;
        let server_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name
            .push(DnType::CommonName, "ironroot attestation service");
        for n in names {
            p.subject_alt_names
                .push(match n.parse::<std::net::IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName(n.clone().try_into()?),
                });
        }
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = p.signed_by(&server_key, &ca_cert, &ca_key)?;
        Ok(ServicePki {
            ca_cert,
            ca_key,
            ca_pem,
            server_cert_pem: server_cert.pem(),
            server_key_pem: server_key.serialize_pem(),
        })
    }

    /// Issues an agent's client certificate from its CSR, valid for `lifetime_secs` from
    /// now (backdated a minute for clock skew), with a random serial. Only the CSR's public
    /// key is used: the subject is set here to the host id the enrollment proved.
    pub fn issue_client_cert(
        &self,
        csr_pem: &str,
        host_id: &str,
        lifetime_secs: u64,
    ) -> Result<IssuedCert, PkiError> {
        self.issue(csr_pem, ClientKind::Host, host_id, lifetime_secs)
    }

    /// Issues a registered cluster's client certificate (`urn:ironroot:cluster:{id}`),
    /// which the agent gate refuses and the cluster gate accepts (docs/hub.md).
    pub fn issue_cluster_cert(
        &self,
        csr_pem: &str,
        cluster_id: &str,
        lifetime_secs: u64,
    ) -> Result<IssuedCert, PkiError> {
        self.issue(csr_pem, ClientKind::Cluster, cluster_id, lifetime_secs)
    }

    fn issue(
        &self,
        csr_pem: &str,
        kind: ClientKind,
        id: &str,
        lifetime_secs: u64,
    ) -> Result<IssuedCert, PkiError> {
        let public_key = csr::public_key_from_pem(csr_pem)?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name.push(DnType::CommonName, id);
        p.subject_alt_names.push(SanType::URI(
            format!("{}{id}", kind.urn_prefix()).try_into()?,
        ));
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        // 16 random bytes, the top bit clear so the DER integer stays positive.
        let mut serial = ironroot_crypto::random_bytes(16)
            .map_err(|e| PkiError::BadCsr(format!("no randomness for a serial: {e}")))?;
        if let Some(b) = serial.first_mut() {
            *b &= 0x7f;
            *b |= 0x01;
        }
        let now = crate::now();
        let not_after = now.saturating_add(lifetime_secs);
        p.serial_number = Some(SerialNumber::from_slice(&serial));
        p.not_before = unix_time(now.saturating_sub(60));
        p.not_after = unix_time(not_after);
        Ok(IssuedCert {
            pem: p.signed_by(&public_key, &self.ca_cert, &self.ca_key)?.pem(),
            serial: hex::encode(&serial),
            not_after,
        })
    }
}

/// A client certificate just issued: the serial is what the host row records as the one
/// certificate that speaks for the host.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub pem: String,
    /// Hex of the serial's bytes.
    pub serial: String,
    /// Unix seconds.
    pub not_after: u64,
}

fn unix_time(secs: u64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// What a client certificate speaks for, read from its `urn:ironroot:KIND:ID` SAN URI:
/// a host's certificate never passes the cluster gate, a cluster's never the agent gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Host,
    Cluster,
}

impl ClientKind {
    fn urn_prefix(self) -> &'static str {
        match self {
            ClientKind::Host => "urn:ironroot:host:",
            ClientKind::Cluster => "urn:ironroot:cluster:",
        }
    }
}

/// The host or cluster a verified client certificate names (its common name, which its
/// SAN URI must repeat), what kind it is, and the certificate's serial (hex), which must
/// be the host's or cluster's current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId {
    /// The host id, or the cluster id when `kind` is [`ClientKind::Cluster`].
    pub host_id: String,
    pub kind: ClientKind,
    pub serial: String,
}

/// Reads the id, kind and serial out of a verified client certificate. A certificate
/// without exactly one ironroot SAN URI naming its common name is no client at all.
pub fn client_id_from_cert(der: &[u8]) -> Option<ClientId> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let host_id = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_owned();
    let san = cert.subject_alternative_name().ok()??;
    let mut kinds = san.value.general_names.iter().filter_map(|n| match n {
        x509_parser::extensions::GeneralName::URI(u) => [ClientKind::Host, ClientKind::Cluster]
            .into_iter()
            .find(|k| u.strip_prefix(k.urn_prefix()) == Some(host_id.as_str())),
        _ => None,
    });
    let kind = kinds.next()?;
    if kinds.next().is_some() {
        return None;
    }
    Some(ClientId {
        host_id,
        kind,
        serial: hex::encode(cert.raw_serial()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_client_certificate_carries_the_csr_key_and_the_host_id() {
        let dir = tempfile::tempdir().unwrap();
        let pki = ServicePki::load_or_create(dir.path(), &["localhost".to_string()]).unwrap();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let csr = CertificateParams::new(vec!["ignored".to_string()])
            .unwrap()
            .serialize_request(&key)
            .unwrap()
            .pem()
            .unwrap();
        let issued = pki.issue_client_cert(&csr, "host-1", 3600).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(issued.pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        assert_eq!(cert.public_key().raw, key.public_key_der().as_slice());
        let id = client_id_from_cert(&pem.contents).unwrap();
        assert_eq!(id.host_id, "host-1");
        assert_eq!(id.kind, ClientKind::Host);
        assert_eq!(id.serial, issued.serial);
        let cluster = pki.issue_cluster_cert(&csr, "cl-1", 3600).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(cluster.pem.as_bytes()).unwrap();
        let id = client_id_from_cert(&pem.contents).unwrap();
        assert_eq!(
            (id.host_id.as_str(), id.kind),
            ("cl-1", ClientKind::Cluster)
        );
    }

    #[test]
    fn replicas_starting_together_share_one_ca() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let names = vec!["localhost".to_string()];
        let pems: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| ServicePki::load_or_create(dir, &names).unwrap().ca_pem))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            pems.windows(2).all(|w| w[0] == w[1]),
            "every replica loads the same CA"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("ca.pem")).unwrap(),
            pems[0]
        );
        let again = ServicePki::load_or_create(dir, &names).unwrap();
        assert_eq!(again.ca_pem, pems[0], "a restart keeps the CA");
    }
}
