//! Enrollment: EK and AK to the service, the credential challenge answered by the TPM,
//! and the client certificate that identifies this node from then on.

use crate::client::ServiceClient;
use crate::run::SharedTpm;
use crate::AgentError;
use ironroot_api::{
    ActivateRequest, ActivateResponse, EnrollChallenge, EnrollRequest, RenewRequest, B64,
};
use ironroot_tpm::EkKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What an enrolled agent keeps in its state directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Identity {
    pub host_id: String,
    pub client_certificate_pem: String,
    /// The AK this identity was proven with: a different AK means enrolling again.
    pub ak_public_hex: String,
    /// When the certificate was issued and when it expires (Unix seconds); an identity
    /// saved before certificates expired has neither and is renewed at once.
    #[serde(default)]
    pub certificate_issued_at: u64,
    #[serde(default)]
    pub certificate_expires_at: u64,
}

/// Where a client certificate is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertificateAge {
    /// Used as it is.
    Fresh,
    /// Past half its life: renewed with itself.
    RenewalDue,
    /// Expired (or about to): the service would refuse the handshake; enroll again.
    Expired,
}

impl Identity {
    /// The certificate's age at `now`; a margin (a tenth of its life, a minute at most)
    /// keeps a certificate that expires in flight from being used.
    pub(crate) fn certificate_age(&self, now: u64) -> CertificateAge {
        let (issued, expires) = (self.certificate_issued_at, self.certificate_expires_at);
        let margin = (expires.saturating_sub(issued) / 10).min(60);
        if now.saturating_add(margin) >= expires {
            CertificateAge::Expired
        } else if now >= issued + (expires.saturating_sub(issued)) / 2 {
            CertificateAge::RenewalDue
        } else {
            CertificateAge::Fresh
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    ironroot_timestamp::now_unix()
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> AgentError {
    AgentError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

pub(crate) fn identity_path(dir: &Path) -> PathBuf {
    dir.join("identity.json")
}

fn key_path(dir: &Path) -> PathBuf {
    dir.join("client.key")
}

pub(crate) fn load(
    dir: &Path,
) -> Result<Option<(Identity, zeroize::Zeroizing<String>)>, AgentError> {
    let p = identity_path(dir);
    let bytes = match std::fs::read(&p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_err(&p, e)),
    };
    let id: Identity = serde_json::from_slice(&bytes).map_err(|e| file_err(&p, e))?;
    let kp = key_path(dir);
    let key = std::fs::read_to_string(&kp).map_err(|e| file_err(&kp, e))?;
    Ok(Some((id, zeroize::Zeroizing::new(key))))
}

fn save(dir: &Path, id: &Identity, key_pem: &str) -> Result<(), AgentError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    let kp = key_path(dir);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&kp)
        .map_err(|e| file_err(&kp, e))?;
    f.write_all(key_pem.as_bytes())
        .map_err(|e| file_err(&kp, e))?;
    let p = identity_path(dir);
    let json = serde_json::to_vec_pretty(id).map_err(|e| file_err(&p, e))?;
    std::fs::write(&p, json).map_err(|e| file_err(&p, e))
}

/// An enrollment the service answered with a credential challenge.
pub(crate) struct Pending {
    challenge: EnrollChallenge,
    ak_public: Vec<u8>,
}

/// The first half of enrolling: EK and AK to the service, which answers with a
/// credential challenge only this TPM can open.
pub(crate) async fn request_challenge(
    client: &ServiceClient,
    tpm: &SharedTpm,
    hostname: &str,
    hardware_uuid: &str,
) -> Result<Pending, AgentError> {
    let (ek, ak) = tpm
        .call(|t| {
            let ek = t.endorsement_key(EkKind::Rsa2048)?;
            let ak = t.attestation_key()?;
            Ok((ek, ak))
        })
        .await?;
    let req = EnrollRequest {
        hostname: hostname.to_owned(),
        hardware_uuid: hardware_uuid.to_owned(),
        ek_public: B64(ek.public),
        ek_certificate: ek.certificate.map(B64),
        ak_public: B64(ak.public.clone()),
    };
    let challenge: EnrollChallenge = client.enroll(&req).await?;
    Ok(Pending {
        challenge,
        ak_public: ak.public,
    })
}

/// The second half: the TPM answers the challenge, the service issues the client
/// certificate, and the identity is stored.
pub(crate) async fn activate(
    client: &ServiceClient,
    tpm: &SharedTpm,
    state_dir: &Path,
    hostname: &str,
    Pending {
        challenge,
        ak_public,
    }: Pending,
) -> Result<(Identity, zeroize::Zeroizing<String>), AgentError> {
    let (id_object, secret_blob) = (challenge.id_object.0, challenge.encrypted_secret.0);
    let secret = tpm
        .call(move |t| Ok(t.activate_credential(&id_object, &secret_blob)?))
        .await?;
    let (key_pem, csr_pem) = new_key_and_csr(hostname)?;
    let activated: ActivateResponse = client
        .activate(
            &challenge.enrollment_id,
            &ActivateRequest {
                secret: B64(secret.to_vec()),
                csr_pem,
            },
        )
        .await?;
    let id = Identity {
        host_id: activated.host_id,
        client_certificate_pem: activated.client_certificate_pem,
        ak_public_hex: hex::encode(&ak_public),
        certificate_issued_at: unix_now(),
        certificate_expires_at: activated.client_certificate_expires_at,
    };
    save(state_dir, &id, &key_pem)?;
    tracing::info!(host_id = %id.host_id, "enrolled: the service proved this TPM's AK and issued a client certificate");
    Ok((id, key_pem))
}

/// A new client key and a CSR for it (the client's one maker: P-256).
fn new_key_and_csr(hostname: &str) -> Result<(zeroize::Zeroizing<String>, String), AgentError> {
    ironroot_client::new_key_and_csr(hostname).map_err(|e| AgentError::Config(e.to_string()))
}

/// Renews the client certificate with the current one (a new key, the same host) and
/// stores it; the service refuses the old one from then on.
pub(crate) async fn renew(
    client: &ServiceClient,
    state_dir: &Path,
    hostname: &str,
    id: &Identity,
) -> Result<(Identity, zeroize::Zeroizing<String>), AgentError> {
    let (key_pem, csr_pem) = new_key_and_csr(hostname)?;
    let renewed: ActivateResponse = client.renew_certificate(&RenewRequest { csr_pem }).await?;
    let id = Identity {
        host_id: renewed.host_id,
        client_certificate_pem: renewed.client_certificate_pem,
        ak_public_hex: id.ak_public_hex.clone(),
        certificate_issued_at: unix_now(),
        certificate_expires_at: renewed.client_certificate_expires_at,
    };
    save(state_dir, &id, &key_pem)?;
    tracing::info!(host_id = %id.host_id, expires_at = id.certificate_expires_at, "client certificate renewed");
    Ok((id, key_pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(issued: u64, expires: u64) -> Identity {
        Identity {
            host_id: "h".into(),
            client_certificate_pem: String::new(),
            ak_public_hex: String::new(),
            certificate_issued_at: issued,
            certificate_expires_at: expires,
        }
    }

    #[test]
    fn a_certificate_is_renewed_at_half_life_and_replaced_when_expired() {
        let c = id(1000, 2000);
        assert_eq!(c.certificate_age(1000), CertificateAge::Fresh);
        assert_eq!(c.certificate_age(1499), CertificateAge::Fresh);
        assert_eq!(c.certificate_age(1500), CertificateAge::RenewalDue);
        assert_eq!(c.certificate_age(1939), CertificateAge::RenewalDue);
        assert_eq!(c.certificate_age(1940), CertificateAge::Expired);
        // A short life keeps a margin of a tenth of it.
        let short = id(1000, 1010);
        assert_eq!(short.certificate_age(1004), CertificateAge::Fresh);
        assert_eq!(short.certificate_age(1005), CertificateAge::RenewalDue);
        assert_eq!(short.certificate_age(1009), CertificateAge::Expired);
        assert_eq!(c.certificate_age(5000), CertificateAge::Expired);
        // Saved before certificates expired: enroll again (the old one is refused).
        assert_eq!(id(0, 0).certificate_age(1000), CertificateAge::Expired);
    }
}
