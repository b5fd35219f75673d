//! Enrollment: EK and AK to the service, the credential challenge answered by the TPM,
//! and the client certificate that identifies this node from then on.

use crate::client::ServiceClient;
use crate::run::SharedTpm;
use crate::AgentError;
use ironroot_api::{ActivateRequest, ActivateResponse, EnrollChallenge, EnrollRequest, B64};
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

/// Runs the whole enrollment and stores the resulting identity.
pub(crate) async fn enroll(
    client: &ServiceClient,
    tpm: &SharedTpm,
    state_dir: &Path,
    hostname: &str,
    hardware_uuid: &str,
) -> Result<(Identity, zeroize::Zeroizing<String>), AgentError> {
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
    let challenge: EnrollChallenge = client.post("/v1/enroll", &req).await?;
    let (id_object, secret_blob) = (challenge.id_object.0, challenge.encrypted_secret.0);
    let secret = tpm
        .call(move |t| Ok(t.activate_credential(&id_object, &secret_blob)?))
        .await?;
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| AgentError::Config(e.to_string()))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| AgentError::Config(e.to_string()))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    let csr = params
        .serialize_request(&key)
        .map_err(|e| AgentError::Config(e.to_string()))?;
    let csr_pem = csr.pem().map_err(|e| AgentError::Config(e.to_string()))?;
    let activated: ActivateResponse = client
        .post(
            &format!("/v1/enroll/{}/activate", challenge.enrollment_id),
            &ActivateRequest {
                secret: B64(secret.to_vec()),
                csr_pem,
            },
        )
        .await?;
    let id = Identity {
        host_id: activated.host_id,
        client_certificate_pem: activated.client_certificate_pem,
        ak_public_hex: hex_encode(&ak.public),
    };
    let key_pem = zeroize::Zeroizing::new(key.serialize_pem());
    save(state_dir, &id, &key_pem)?;
    tracing::info!(host_id = %id.host_id, "enrolled: the service proved this TPM's AK and issued a client certificate");
    Ok((id, key_pem))
}

pub(crate) fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
