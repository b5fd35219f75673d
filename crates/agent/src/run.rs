//! The agent's main loop.

use crate::client::ServiceClient;
use crate::enroll::{self, Identity};
use crate::AgentError;
use ironroot_api::{Challenge, EvidenceRequest, EvidenceResponse, B64};
use ironroot_crypto::HashAlg;
use ironroot_devnode::{ImaEmulator, NodeLayout};
use ironroot_tpm::TpmDevice;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// A development node whose IMA the agent plays (see `ironroot-devnode`).
#[derive(Debug, Clone)]
pub struct DevNode {
    pub dir: PathBuf,
    /// How often to look for changed runtime files.
    pub poll: Duration,
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub server: String,
    pub ca_pem: Vec<u8>,
    pub state_dir: PathBuf,
    pub hostname: String,
    pub hardware_uuid: String,
    pub event_log: Option<PathBuf>,
    pub ima_log: Option<PathBuf>,
    pub dev_node: Option<DevNode>,
    /// Largest log the agent will send.
    pub max_log_bytes: u64,
}

/// The TPM, used from blocking threads one call at a time.
#[derive(Clone)]
pub(crate) struct SharedTpm(Arc<Mutex<Box<dyn TpmDevice>>>);

impl SharedTpm {
    pub async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn TpmDevice) -> Result<R, AgentError> + Send + 'static,
    ) -> Result<R, AgentError> {
        let tpm = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = tpm.lock().unwrap_or_else(|p| p.into_inner());
            f(guard.as_mut())
        })
        .await
        .map_err(|e| AgentError::Config(format!("TPM worker: {e}")))?
    }
}

fn read_log(path: &Option<PathBuf>, max: u64) -> Result<Option<B64>, AgentError> {
    let Some(p) = path else { return Ok(None) };
    let err = |e: &dyn std::fmt::Display| AgentError::File {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    match std::fs::read(p) {
        Ok(b) if b.len() as u64 > max => Err(err(&format!("larger than {max} bytes"))),
        Ok(b) => Ok(Some(B64(b))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(&e)),
    }
}

async fn attest_once(
    cfg: &AgentConfig,
    client: &ServiceClient,
    tpm: &SharedTpm,
) -> Result<EvidenceResponse, AgentError> {
    let ch: Challenge = client
        .post("/v1/attest/challenge", &serde_json::json!({}))
        .await?;
    let selection: Vec<(HashAlg, Vec<u32>)> = ch
        .selection
        .iter()
        .map(|s| (s.bank, s.pcrs.clone()))
        .collect();
    let nonce = ch.nonce.0.clone();
    // Logs are read before the quote: anything measured after reading is also after the
    // quote or covered by it, and a mismatch is retried at the next change.
    let event_log = read_log(&cfg.event_log, cfg.max_log_bytes)?;
    let ima_log = read_log(&cfg.ima_log, cfg.max_log_bytes)?;
    let quote = tpm.call(move |t| Ok(t.quote(&nonce, &selection)?)).await?;
    let req = EvidenceRequest {
        nonce: ch.nonce,
        attest: B64(quote.attest),
        signature: B64(quote.signature),
        pcrs: quote.pcrs,
        event_log,
        ima_log,
    };
    client.post("/v1/attest/evidence", &req).await
}

/// Runs the agent until the process is stopped.
pub async fn run(cfg: AgentConfig, tpm: Box<dyn TpmDevice>) -> Result<(), AgentError> {
    let tpm = SharedTpm(Arc::new(Mutex::new(tpm)));
    let changed = Arc::new(Notify::new());
    if let Some(dev) = cfg.dev_node.clone() {
        spawn_ima(dev, tpm.clone(), changed.clone()).await?;
    }
    let anon = ServiceClient::new(&cfg.server, &cfg.ca_pem, None)?;
    let mut backoff = Duration::from_millis(500);
    let mut identity: Option<(Identity, zeroize::Zeroizing<String>)> =
        enroll::load(&cfg.state_dir)?;
    if let Some((id, _)) = &identity {
        // A TPM that was cleared or re-provisioned has a different AK: enroll again.
        let ak = tpm.call(|t| Ok(t.attestation_key()?)).await?;
        if enroll::hex_encode(&ak.public) != id.ak_public_hex {
            tracing::warn!("the TPM's attestation key changed since enrollment; enrolling again");
            identity = None;
        }
    }
    loop {
        let (id, key) = match identity.take() {
            Some(x) => x,
            None => match enroll::enroll(
                &anon,
                &tpm,
                &cfg.state_dir,
                &cfg.hostname,
                &cfg.hardware_uuid,
            )
            .await
            {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "enrollment failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            },
        };
        let client = ServiceClient::new(
            &cfg.server,
            &cfg.ca_pem,
            Some((&id.client_certificate_pem, &key)),
        )?;
        let next = match attest_once(&cfg, &client, &tpm).await {
            Ok(r) => {
                backoff = Duration::from_millis(500);
                tracing::info!(trusted = r.trusted, report = %r.report_id, "attested");
                Duration::from_secs(r.next_attestation_in.max(1))
            }
            Err(AgentError::Refused(e))
                if matches!(
                    e.kind,
                    ironroot_api::ErrorKind::Unauthenticated | ironroot_api::ErrorKind::Forbidden
                ) =>
            {
                tracing::warn!(error = %e.message, "the service no longer knows this node; enrolling again");
                let _ = std::fs::remove_file(enroll::identity_path(&cfg.state_dir));
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "attestation failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        identity = Some((id, key));
        // Wait for the next scheduled attestation, or attest at once when a measurement changed.
        tokio::select! {
            _ = tokio::time::sleep(next) => {}
            _ = changed.notified() => { tracing::info!("measurements changed; attesting now"); }
        }
    }
}

async fn spawn_ima(dev: DevNode, tpm: SharedTpm, changed: Arc<Notify>) -> Result<(), AgentError> {
    let layout = NodeLayout::new(&dev.dir);
    let emu = tpm
        .call(move |t| Ok(ImaEmulator::start(layout, t)?))
        .await?;
    let emu = Arc::new(Mutex::new(emu));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(dev.poll).await;
            let emu = emu.clone();
            let n = tpm
                .call(move |t| {
                    let mut e = emu.lock().unwrap_or_else(|p| p.into_inner());
                    Ok(e.measure_changes(t)?)
                })
                .await;
            match n {
                Ok(0) => {}
                Ok(_) => changed.notify_one(),
                Err(e) => tracing::warn!(error = %e, "IMA emulation failed"),
            }
        }
    });
    Ok(())
}
