//! The agent's main loop.

use crate::client::{service_client, ServiceClient};
use crate::kubelet::KubeletSource;
use crate::lifecycle::{Credentials, Enrollment};
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
    /// How often a real host's PCR 10 is read to notice new measurements.
    pub watch_interval: Duration,
    /// Serve the ocicrypt keyprovider (gRPC, `UnWrapKey`) on this unix socket.
    pub keyprovider_socket: Option<PathBuf>,
    /// The kubelet's config file, read at each evidence ([`crate::kubelet`]); `None`:
    /// send no kubelet facts.
    pub kubelet_config: Option<PathBuf>,
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

/// One agent's conversation with the service: enrollment, then challenges answered with
/// evidence. [`run`] drives it in a loop; tests drive it step by step.
pub struct Session {
    pub(crate) cfg: AgentConfig,
    pub(crate) tpm: SharedTpm,
    pub(crate) anon: ServiceClient,
    /// Where enrollment is, with the identity and its client once there is one
    /// (`enroll.rs` drives it).
    pub(crate) enrollment: Enrollment<Credentials>,
    /// The TPM binding key for key release, made on first need.
    pub(crate) binding: tokio::sync::Mutex<Option<ironroot_tpm::BindingKey>>,
    pub(crate) kubelet: Arc<KubeletSource>,
}

impl Session {
    pub fn new(cfg: AgentConfig, tpm: Box<dyn TpmDevice>) -> Result<Session, AgentError> {
        let anon = service_client(&cfg.server, &cfg.ca_pem, None)?;
        Ok(Session {
            kubelet: Arc::new(KubeletSource::new(cfg.kubelet_config.clone())),
            cfg,
            tpm: SharedTpm(Arc::new(Mutex::new(tpm))),
            anon,
            enrollment: Enrollment::Unenrolled,
            binding: Default::default(),
        })
    }

    /// The client without a client certificate (enrollment endpoints).
    pub fn anonymous(&self) -> &ServiceClient {
        &self.anon
    }

    /// The configuration this session runs with.
    pub fn config(&self) -> &AgentConfig {
        &self.cfg
    }

    pub async fn challenge(&self) -> Result<Challenge, AgentError> {
        Ok(self.client()?.challenge().await?)
    }

    /// Quotes for a challenge and gathers the logs. Logs are read under the same TPM lock
    /// as the quote, so a development node's IMA cannot extend PCR 10 in between.
    pub async fn collect(&self, ch: &Challenge) -> Result<EvidenceRequest, AgentError> {
        let wanted: Vec<(HashAlg, Vec<u32>)> = ch
            .selection
            .iter()
            .map(|s| (s.bank, s.pcrs.clone()))
            .collect();
        let nonce = ch.nonce.0.clone();
        let (ev_path, ima_path, max) = (
            self.cfg.event_log.clone(),
            self.cfg.ima_log.clone(),
            self.cfg.max_log_bytes,
        );
        let (quote, event_log, ima_log, asset_tag) = self
            .tpm
            .call(move |t| {
                // Quote every requested bank this TPM has allocated.
                let banks = t.banks()?;
                let selection: Vec<(HashAlg, Vec<u32>)> = wanted
                    .into_iter()
                    .filter(|(b, _)| banks.contains(b))
                    .collect();
                let event_log = read_log(&ev_path, max)?;
                let ima_log = read_log(&ima_path, max)?;
                let tag = crate::keys::provisioned_tag(t);
                let quoted = ironroot_api::quote_nonce(&nonce, tag.as_deref());
                Ok((t.quote(&quoted, &selection)?, event_log, ima_log, tag))
            })
            .await?;
        // Not under the TPM lock: the quote does not cover it (a conformance fact).
        let kubelet = self.kubelet.clone();
        let kubelet = tokio::task::spawn_blocking(move || kubelet.facts())
            .await
            .map_err(|e| AgentError::Config(format!("kubelet config reader: {e}")))?;
        Ok(EvidenceRequest {
            nonce: ch.nonce.clone(),
            attest: B64(quote.attest),
            signature: B64(quote.signature),
            pcrs: quote.pcrs,
            event_log,
            ima_log,
            asset_tag: asset_tag.map(B64),
            kubelet,
        })
    }

    pub async fn submit(&self, req: &EvidenceRequest) -> Result<EvidenceResponse, AgentError> {
        Ok(self.client()?.evidence(req).await?)
    }

    /// Runs `f` with the node's TPM (tests and tools that must share the session's TPM
    /// connection: swtpm serves one client at a time).
    pub async fn with_tpm<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn TpmDevice) -> Result<R, AgentError> + Send + 'static,
    ) -> Result<R, AgentError> {
        self.tpm.call(f).await
    }

    /// Challenge, quote, submit. When the service says the node's asset tag changed,
    /// provisions the new one into the TPM and attests again at once.
    pub async fn attest_once(&self) -> Result<EvidenceResponse, AgentError> {
        let ch = self.challenge().await?;
        let req = self.collect(&ch).await?;
        let r = self.submit(&req).await?;
        let presented = req.asset_tag.as_ref().map(|t| hex::encode(&t.0));
        if r.asset_tag == presented {
            return Ok(r);
        }
        self.sync_asset_tag(r.asset_tag.as_deref()).await?;
        let ch = self.challenge().await?;
        let req = self.collect(&ch).await?;
        self.submit(&req).await
    }
}

/// Runs the agent until the process is stopped.
pub async fn run(cfg: AgentConfig, tpm: Box<dyn TpmDevice>) -> Result<(), AgentError> {
    let dev = cfg.dev_node.clone();
    let socket = cfg.keyprovider_socket.clone();
    let session = Session::new(cfg, tpm)?;
    let changed = Arc::new(Notify::new());
    match dev {
        Some(dev) => spawn_ima(dev, session.tpm.clone(), changed.clone()).await?,
        None => spawn_pcr_watch(
            session.tpm.clone(),
            changed.clone(),
            session.cfg.watch_interval,
        ),
    }
    let session = Arc::new(tokio::sync::RwLock::new(session));
    if let Some(socket) = socket {
        let unwrapper = Arc::new(crate::NodeUnwrapper::new(
            session.clone(),
            crate::DEFAULT_KEY_CACHE,
            crate::keyprovider::DEFAULT_REFUSAL_CACHE,
        ));
        // Bind now, so a bad path stops the agent at start rather than later.
        let listener = crate::keyprovider::bind_keyprovider(&socket)?;
        tracing::info!(socket = %socket.display(), "serving the ocicrypt keyprovider");
        tokio::spawn(async move {
            if let Err(e) =
                crate::serve_keyprovider(listener, unwrapper, std::future::pending()).await
            {
                tracing::error!(error = %e, "the keyprovider socket stopped");
            }
        });
    }
    let mut backoff = Duration::from_millis(500);
    loop {
        if let Err(e) = session.write().await.ensure_enrolled().await {
            tracing::warn!(error = %e, retry_in = ?backoff, "enrollment failed");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
            continue;
        }
        if let Err(e) = session.write().await.renew_certificate_if_due().await {
            // The current certificate still works until it expires: attest with it.
            tracing::warn!(error = %e, "certificate renewal failed; will retry");
        }
        if session.read().await.host_id().is_none() {
            continue;
        }
        let attested = session.read().await.attest_once().await;
        let next = match attested {
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
                session.write().await.forget_identity();
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "attestation failed");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        // Wait for the next scheduled attestation, or attest at once when a measurement changed.
        tokio::select! {
            _ = tokio::time::sleep(next) => {}
            _ = changed.notified() => { tracing::info!("measurements changed; attesting now"); }
        }
    }
}

/// On a real host the kernel's IMA extends PCR 10 whenever it measures something new;
/// reading that one PCR is cheap, so the agent polls it and attests at once on a change
/// instead of waiting for the next scheduled attestation.
fn spawn_pcr_watch(tpm: SharedTpm, changed: Arc<Notify>, every: Duration) {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            tokio::time::sleep(every).await;
            let now = tpm
                .call(|t| Ok(t.pcr_read(&[(HashAlg::Sha256, vec![10])])?))
                .await;
            match now {
                Ok(v) => {
                    if last.as_ref().is_some_and(|l| *l != v) {
                        changed.notify_one();
                    }
                    last = Some(v);
                }
                Err(e) => tracing::warn!(error = %e, "reading PCR 10 failed"),
            }
        }
    });
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
