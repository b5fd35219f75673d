//! The cluster's own id, read from the certificate the hub issued it at registration
//! (`POST /v1/clusters`): its subject alternative name `urn:ironroot:cluster:{id}`. The
//! hub chose that name and signed it, so a bundle naming another id is not for us.

use x509_parser::extensions::GeneralName;

const PREFIX: &str = "urn:ironroot:cluster:";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    #[error("the cluster certificate is not a PEM X.509 certificate")]
    NotACertificate,
    #[error("the cluster certificate names no {PREFIX}ID (is it a cluster's certificate from POST /v1/clusters?)")]
    NoClusterId,
    #[error("the cluster certificate names several cluster ids")]
    SeveralIds,
}

/// When a certificate was issued and when it expires (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: u64,
    pub not_after: u64,
}

impl Validity {
    /// Half-way through: when the controller renews it (as agents do theirs).
    pub fn renew_at(&self) -> u64 {
        self.not_before + self.not_after.saturating_sub(self.not_before) / 2
    }
}

/// The validity of the first certificate of `cert_pem`.
pub fn validity(cert_pem: &[u8]) -> Result<Validity, IdentityError> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(cert_pem).map_err(|_| IdentityError::NotACertificate)?;
    let cert = pem
        .parse_x509()
        .map_err(|_| IdentityError::NotACertificate)?;
    let secs = |t: i64| u64::try_from(t).unwrap_or(0);
    Ok(Validity {
        not_before: secs(cert.validity().not_before.timestamp()),
        not_after: secs(cert.validity().not_after.timestamp()),
    })
}

/// The id in the first certificate of `cert_pem`.
pub fn cluster_id(cert_pem: &[u8]) -> Result<String, IdentityError> {
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(cert_pem).map_err(|_| IdentityError::NotACertificate)?;
    let cert = pem
        .parse_x509()
        .map_err(|_| IdentityError::NotACertificate)?;
    let mut ids = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::URI(uri) = name {
                if let Some(id) = uri.strip_prefix(PREFIX).filter(|id| !id.is_empty()) {
                    ids.push(id.to_owned());
                }
            }
        }
    }
    match ids.as_slice() {
        [] => Err(IdentityError::NoClusterId),
        [one] => Ok(one.clone()),
        _ => Err(IdentityError::SeveralIds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert_with(sans: &[&str]) -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        for s in sans {
            params
                .subject_alt_names
                .push(rcgen::SanType::URI((*s).try_into().unwrap()));
        }
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn the_id_comes_from_the_san() {
        let pem = cert_with(&["urn:ironroot:cluster:c-42"]);
        assert_eq!(cluster_id(pem.as_bytes()).unwrap(), "c-42");
    }

    #[test]
    fn renewal_is_due_at_half_life() {
        let v = Validity {
            not_before: 1000,
            not_after: 3000,
        };
        assert_eq!(v.renew_at(), 2000);
        let pem = cert_with(&["urn:ironroot:cluster:c-42"]);
        let v = validity(pem.as_bytes()).unwrap();
        assert!(v.not_after > v.not_before, "{v:?}");
    }

    #[test]
    fn a_host_certificate_or_garbage_names_no_cluster() {
        let pem = cert_with(&["urn:ironroot:host:h-1"]);
        assert_eq!(cluster_id(pem.as_bytes()), Err(IdentityError::NoClusterId));
        assert_eq!(cluster_id(b"not pem"), Err(IdentityError::NotACertificate));
        let two = cert_with(&["urn:ironroot:cluster:a", "urn:ironroot:cluster:b"]);
        assert_eq!(cluster_id(two.as_bytes()), Err(IdentityError::SeveralIds));
    }
}
