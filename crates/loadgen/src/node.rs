//! A simulated node: a software AK, its own client certificate and one persistent
//! connection, attesting the way the trust agent does (challenge, quote, evidence).

use crate::conn::{Conn, ConnError, Target};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use hyper::http::StatusCode;
use ironroot_api::{ApiError, Challenge, EvidenceResponse};
use ironroot_crypto::HashAlg;
use ironroot_testkit::{HostImage, QuoteClock, SoftwareAk};
use ironroot_tpm_wire::PcrSelection;
use rustls::ClientConfig;
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
    Service { step: &'static str, kind: String },
    /// The service answered, but the node was not trusted.
    Untrusted,
    /// Our own side (signing, parsing an answer).
    Local(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(k) => write!(f, "transport:{k}"),
            Failure::Service { step, kind } => write!(f, "{step}:{kind}"),
            Failure::Untrusted => write!(f, "untrusted"),
            Failure::Local(m) => write!(f, "local:{m}"),
        }
    }
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
    conn: Option<Conn>,
    /// The TPM clock at the fleet origin; it then advances with real time.
    clock_base: u64,
}

impl SimNode {
    pub fn new(host_id: String, ak: SoftwareAk, tls: Arc<ClientConfig>, clock_base: u64) -> Self {
        SimNode {
            host_id,
            ak,
            tls,
            conn: None,
            clock_base,
        }
    }

    /// Opens the node's connection (again, if the service closed it).
    pub async fn connect(&mut self, target: &Target) -> Result<(), ConnError> {
        if !self.conn.as_ref().is_some_and(Conn::is_open) {
            self.conn = Some(Conn::open(target, self.tls.clone()).await?);
        }
        Ok(())
    }

    /// One full attestation; `Ok(())` only for a trusted verdict.
    pub async fn attest(&mut self, target: &Target, fleet: &FleetImage) -> Result<(), Failure> {
        self.connect(target).await?;
        let conn = self.conn.as_mut().ok_or(Failure::Transport("transport"))?;
        let challenge: Challenge =
            call(conn, "challenge", "/v1/attest/challenge", Bytes::new()).await?;
        let now_ms = u64::try_from(fleet.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        let quote = self
            .ak
            .quote(
                &challenge.nonce.0,
                clock(self.clock_base + now_ms),
                &fleet.image.pcrs,
                &fleet.selection,
            )
            .map_err(|e| Failure::Local(e.to_string()))?;
        let body = fleet.evidence_body(&challenge.nonce.0, &quote.attest, &quote.signature);
        let resp: EvidenceResponse = call(conn, "evidence", "/v1/attest/evidence", body).await?;
        if resp.trusted {
            Ok(())
        } else {
            Err(Failure::Untrusted)
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
    if status.is_success() {
        return serde_json::from_slice(bytes)
            .map_err(|e| Failure::Local(format!("{step} answer: {e}")));
    }
    let kind = serde_json::from_slice::<ApiError>(bytes)
        .ok()
        .and_then(|e| serde_json::to_value(e.kind).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| status.as_u16().to_string());
    Err(Failure::Service { step, kind })
}

impl SimNode {
    /// Forgets the connection after a timeout: its state is unknown.
    pub fn drop_connection(&mut self) {
        self.conn = None;
    }
}
