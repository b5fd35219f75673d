//! A simulated node: a software AK, its own client certificate and one persistent
//! connection to each service replica it uses, attesting the way the trust agent does
//! (challenge, quote, evidence).

use crate::conn::{Conn, ConnError, Target};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use hyper::http::StatusCode;
use ironroot_api::{Challenge, EvidenceResponse};
use ironroot_client::ClientError;
use ironroot_crypto::HashAlg;
use ironroot_testkit::{HostImage, QuoteClock, SoftwareAk};
use ironroot_tls::ClientConfig;
use ironroot_tpm_wire::PcrSelection;
use std::sync::Arc;
use std::time::Instant;

/// What every node of the fleet measures (one image: flavors from one node fit all),
/// with the parts of the evidence body that never change encoded once.
pub struct FleetImage {
    pub image: HostImage,
    pcrs_json: String,
    event_log_b64: String,
    ima_log_b64: String,
    selection: PcrSelection,
    /// Every node's TPM clock counts from this instant.
    origin: Instant,
}

impl FleetImage {
    pub fn new(image: HostImage) -> Result<Self, String> {
        let selection = PcrSelection(vec![(HashAlg::Sha256, (0..=10).collect())]);
        // The quoted values are the same for every quote of this image.
        let probe = SoftwareAk::generate(ironroot_testkit::AkKind::EcdsaP256)
            .and_then(|ak| ak.quote(b"probe", clock(0), &image.pcrs, &selection))
            .map_err(|e| e.to_string())?;
        Ok(FleetImage {
            pcrs_json: serde_json::to_string(&probe.pcrs).map_err(|e| e.to_string())?,
            event_log_b64: STANDARD.encode(&image.boot_log),
            ima_log_b64: STANDARD.encode(&image.ima_log),
            image,
            selection,
            origin: Instant::now(),
        })
    }

    fn evidence_body(&self, nonce: &[u8], attest: &[u8], signature: &[u8]) -> Bytes {
        let mut s = String::with_capacity(
            self.event_log_b64.len() + self.ima_log_b64.len() + self.pcrs_json.len() + 512,
        );
        s.push_str("{\"nonce\":\"");
        STANDARD.encode_string(nonce, &mut s);
        s.push_str("\",\"attest\":\"");
        STANDARD.encode_string(attest, &mut s);
        s.push_str("\",\"signature\":\"");
        STANDARD.encode_string(signature, &mut s);
        s.push_str("\",\"pcrs\":");
        s.push_str(&self.pcrs_json);
        s.push_str(",\"event_log\":\"");
        s.push_str(&self.event_log_b64);
        s.push_str("\",\"ima_log\":\"");
        s.push_str(&self.ima_log_b64);
        s.push_str("\"}");
        Bytes::from(s)
    }
}

fn clock(ms: u64) -> QuoteClock {
    QuoteClock {
        clock: ms,
        reset_count: 1,
        restart_count: 0,
    }
}

/// Why one attestation failed, by stable label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    /// Connection-level: connect, tls, transport, timeout.
    Transport(&'static str),
    /// The service answered an error: the step and its `kind` (or the status).
    Service {
        step: &'static str,
        kind: String,
        status: u16,
    },
    /// The service answered, but the node was not trusted.
    Untrusted,
    /// Our own side (signing, parsing an answer).
    Local(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(k) => write!(f, "transport:{k}"),
            Failure::Service { step, kind, .. } => write!(f, "{step}:{kind}"),
            Failure::Untrusted => write!(f, "untrusted"),
            Failure::Local(m) => write!(f, "local:{m}"),
        }
    }
}

impl Failure {
    /// Worth retrying at once on another replica, as an agent behind a load balancer
    /// would: the connection failed, timed out, or the service answered 5xx.
    pub fn retryable(&self) -> bool {
        match self {
            Failure::Transport(_) => true,
            Failure::Service { status, .. } => *status >= 500,
            Failure::Untrusted | Failure::Local(_) => false,
        }
    }

    /// The replica itself is unreachable (connection refused, reset, closed).
    pub fn replica_down(&self) -> bool {
        matches!(self, Failure::Transport(k) if *k != "timeout")
    }
}

/// One failed attempt and the replica it failed on.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub failure: Failure,
    pub replica: usize,
}

/// What the service answered to one attestation.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub trusted: bool,
    pub report_id: String,
}

impl From<ConnError> for Failure {
    fn from(e: ConnError) -> Self {
        Failure::Transport(e.kind())
    }
}

pub struct SimNode {
    pub host_id: String,
    ak: SoftwareAk,
    tls: Arc<ClientConfig>,
    /// One connection per replica, opened when first used.
    conns: Vec<Option<Conn>>,
    /// The TPM clock at the fleet origin; it then advances with real time.
    clock_base: u64,
}

impl SimNode {
    pub fn new(host_id: String, ak: SoftwareAk, tls: Arc<ClientConfig>, clock_base: u64) -> Self {
        SimNode {
            host_id,
            ak,
            tls,
            conns: Vec::new(),
            clock_base,
        }
    }

    /// Opens the node's connection to `replica` (again, if the service closed it).
    pub async fn connect(&mut self, targets: &[Target], replica: usize) -> Result<(), ConnError> {
        if self.conns.len() < targets.len() {
            self.conns.resize_with(targets.len(), || None);
        }
        if !self.conns[replica].as_ref().is_some_and(Conn::is_open) {
            self.conns[replica] = Some(Conn::open(&targets[replica], self.tls.clone()).await?);
        }
        Ok(())
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &mut self,
        targets: &[Target],
        replica: usize,
        step: &'static str,
        path: &str,
        body: Bytes,
    ) -> Result<T, AttemptError> {
        let at = |failure| AttemptError { failure, replica };
        self.connect(targets, replica)
            .await
            .map_err(|e| at(e.into()))?;
        let conn = self.conns[replica]
            .as_mut()
            .ok_or(at(Failure::Transport("transport")))?;
        let r = call(conn, step, path, body).await;
        if matches!(r, Err(Failure::Transport(_))) {
            self.conns[replica] = None;
        }
        r.map_err(at)
    }

    /// One full attestation: the challenge from replica `chal`, the evidence to replica
    /// `evid` (any replica must accept any replica's nonce).
    pub async fn attest(
        &mut self,
        targets: &[Target],
        fleet: &FleetImage,
        chal: usize,
        evid: usize,
    ) -> Result<Verdict, AttemptError> {
        let challenge: Challenge = self
            .call(
                targets,
                chal,
                "challenge",
                "/v1/attest/challenge",
                Bytes::new(),
            )
            .await?;
        let now_ms = u64::try_from(fleet.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        let quote = self
            .ak
            .quote(
                &challenge.nonce.0,
                clock(self.clock_base + now_ms),
                &fleet.image.pcrs,
                &fleet.selection,
            )
            .map_err(|e| AttemptError {
                failure: Failure::Local(e.to_string()),
                replica: evid,
            })?;
        let body = fleet.evidence_body(&challenge.nonce.0, &quote.attest, &quote.signature);
        let resp: EvidenceResponse = self
            .call(targets, evid, "evidence", "/v1/attest/evidence", body)
            .await?;
        Ok(Verdict {
            trusted: resp.trusted,
            report_id: resp.report_id,
        })
    }

    /// Forgets the connection to `replica` after a timeout: its state is unknown.
    pub fn drop_connection(&mut self, replica: usize) {
        if let Some(c) = self.conns.get_mut(replica) {
            *c = None;
        }
    }
}

/// Posts `body` and decodes the answer, or names the service's error kind.
pub async fn call<T: serde::de::DeserializeOwned>(
    conn: &mut Conn,
    step: &'static str,
    path: &str,
    body: Bytes,
) -> Result<T, Failure> {
    let (status, bytes) = conn.post(path, body, None).await?;
    decode(step, status, &bytes)
}

pub fn decode<T: serde::de::DeserializeOwned>(
    step: &'static str,
    status: StatusCode,
    bytes: &[u8],
) -> Result<T, Failure> {
    let status = status.as_u16();
    let kind = match ironroot_client::decode(status, bytes) {
        Ok(v) => return Ok(v),
        Err(ClientError::Api { error, .. }) => serde_json::to_value(error.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned)),
        Err(ClientError::Decode(e)) => return Err(Failure::Local(format!("{step} answer: {e}"))),
        Err(_) => None,
    };
    Err(Failure::Service {
        step,
        kind: kind.unwrap_or_else(|| status.to_string()),
        status,
    })
}
