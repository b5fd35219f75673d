//! One attestation, from the agent's evidence to a signed, stored trust report.
//!
//! Anything wrong with the evidence (a bad signature, a PCR digest that does not match, a
//! malformed log, a clock that went backwards) becomes a named fault in an untrusted
//! report: the host loses trust at once, and the operator sees why.

use crate::error::ServiceError;
use crate::store::{ClockCheck, HostRow, ReportRow, Verdict};
use crate::{now, AppState};
use ironroot_api::{EvidenceRequest, TrustState, B64};
use ironroot_crypto::HashAlg;
use ironroot_evidence::{EventLog, ImaLog};
use ironroot_tpm_wire::{verify_quote, PcrValues, TpmPublic};
use ironroot_verifier::{
    Evidence, Fault, FaultName, Flavor, FlavorGroup, HostInfo, RuleId, RuleResult, TrustReport,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub(crate) struct Outcome {
    pub trusted: bool,
    pub report_id: String,
    pub jws: String,
    /// When the host should attest again (its group's interval), in seconds.
    pub next_attestation_in: u64,
    pub report: TrustReport,
}

/// The verified parts of a host's latest evidence, kept so that flavors can be taken
/// from a golden host. Logs are kept raw and re-parsed, with the same limits, on use.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEvidence {
    pub quoted: PcrValues,
    pub event_log: Option<B64>,
    pub ima_log: Option<B64>,
    pub host: HostInfo,
}

impl StoredEvidence {
    pub fn to_evidence(&self) -> Result<Evidence, String> {
        Ok(Evidence {
            quoted: self.quoted.clone(),
            event_log: self
                .event_log
                .as_ref()
                .map(|b| EventLog::parse(&b.0))
                .transpose()
                .map_err(|e| e.to_string())?,
            ima: self
                .ima_log
                .as_ref()
                .map(|b| ImaLog::parse(&b.0))
                .transpose()
                .map_err(|e| e.to_string())?,
            host: self.host.clone(),
        })
    }
}

fn rejected(
    host: &HostRow,
    group: &str,
    now: u64,
    validity: u64,
    rule: RuleId,
    fault: Fault,
) -> TrustReport {
    TrustReport {
        host_id: host.host_id.clone(),
        hostname: host.hostname.clone(),
        trusted: false,
        created: now,
        expires: now + validity,
        group: group.to_owned(),
        results: vec![RuleResult {
            rule,
            subject: None,
            flavor_id: None,
            flavor_label: None,
            part: None,
            trusted: false,
            faults: vec![fault],
        }],
        quoted_pcrs: PcrValues::default(),
        reset_count: host.reset_count.unwrap_or(0),
        restart_count: host.restart_count.unwrap_or(0),
        asset_tags: Default::default(),
    }
}

pub(crate) async fn attest(
    st: &AppState,
    host: &HostRow,
    req: &EvidenceRequest,
) -> Result<Outcome, ServiceError> {
    let now = now();
    let group_name = host.flavor_group.clone();
    // The group decides the schedule: how long this verdict lasts, when to come back.
    let (group, flavors) = crate::flavor_cache::group_and_flavors(st, &group_name).await?;
    let schedule = st.config.schedule_for(&group);
    let validity = schedule.validity_secs();
    // A presented asset tag is folded into the quoted nonce; only a quote over exactly
    // that fold verifies, so the digest below is one the TPM signed.
    let asset_tag = match &req.asset_tag {
        Some(t) if t.0.len() != 32 => {
            return Err(ServiceError::BadRequest(
                "asset_tag must be the 32-byte SHA-256 of a tag certificate".into(),
            ))
        }
        Some(t) => Some(t.0.as_slice()),
        None => None,
    };
    let quoted_nonce = ironroot_api::quote_nonce(&req.nonce.0, asset_tag);
    let ak = TpmPublic::parse(&host.ak_public)
        .map_err(|e| ServiceError::Internal(format!("stored AK: {e}")))?;
    let report = match verify_quote(
        &ak,
        Some(&host.ak_qualified_name),
        &req.attest.0,
        &req.signature.0,
        &quoted_nonce,
        &req.pcrs,
    ) {
        Err(e) => rejected(
            host,
            &group_name,
            now,
            validity,
            RuleId::Quote,
            Fault::new(
                FaultName::QuoteInvalid,
                format!("the quote was rejected: {e}"),
            ),
        ),
        Ok(quote) if quote.pcrs().get(HashAlg::Sha256, 10).is_none() => rejected(
            host,
            &group_name,
            now,
            validity,
            RuleId::Quote,
            Fault::new(
                FaultName::QuoteInvalid,
                "the quote does not cover PCRs 0-10 in the SHA-256 bank, which every attestation must",
            ),
        ),
        Ok(quote) => {
            let clock = quote.clock_info();
            if host.reset_count.is_some_and(|r| r != clock.reset_count) {
                tracing::info!(host_id = %host.host_id, "host rebooted (TPM resetCount changed); evaluating afresh");
            }
            // Only an authentic quote reaches this point, so only the TPM can move the
            // high-water mark; a rolled-back TPM stays behind it until it reboots.
            let backwards = match st
                .store
                .advance_clock(&host.host_id, clock.reset_count, clock.restart_count, clock.clock)
                .await?
            {
                ClockCheck::Advanced => false,
                ClockCheck::WentBackwards => true,
                ClockCheck::Repeated => {
                    return Err(ServiceError::NonceInvalid(
                        "this quote was accepted before: each challenge can be answered once".into(),
                    ))
                }
            };
            let info = HostInfo {
                host_id: host.host_id.clone(),
                hostname: host.hostname.clone(),
                reset_count: clock.reset_count,
                restart_count: clock.restart_count,
                clock_ms: clock.clock,
                vendor: String::new(),
                asset_tag: asset_tag.map(|t| ironroot_tpm_wire::Digest(t.to_vec())),
            };
            let stored = StoredEvidence {
                quoted: quote.pcrs().clone(),
                event_log: req.event_log.clone(),
                ima_log: req.ima_log.clone(),
                host: info,
            };
            if backwards {
                rejected(host, &group_name, now, validity, RuleId::TpmClock, Fault::new(
                    FaultName::ClockWentBackwards,
                    format!(
                        "the TPM's counters went backwards (reset {} restart {} clock {} ms, after reset {} restart {} clock {} ms): \
                         the TPM's state was rolled back or the quote is older than one already accepted",
                        clock.reset_count,
                        clock.restart_count,
                        clock.clock,
                        host.reset_count.unwrap_or(0),
                        host.restart_count.unwrap_or(0),
                        host.clock.unwrap_or(0)
                    ),
                ))
            } else {
                evaluate_cached(st, host, &stored, req, (&group, &flavors), now, validity).await?
            }
        }
    };
    let mut report = report;
    if !report.results.iter().any(|r| r.rule.is_quote()) {
        report.asset_tags = current_tags(st, host, asset_tag).await?;
    }
    store_signed(st, report, Some(host.trust_state), schedule.interval_secs).await
}

/// The tags a report may carry: the host's current tag if the quote covered its digest.
/// The tag is read from the store now, after the quote verified, never taken from the
/// host row the request started with: a revocation committed before this read is
/// honoured, so a revoked tag cannot ride on an attestation that raced it.
async fn current_tags(
    st: &AppState,
    host: &HostRow,
    quoted: Option<&[u8]>,
) -> Result<std::collections::BTreeMap<String, String>, ServiceError> {
    if quoted.is_none() {
        return Ok(Default::default());
    }
    let (tag_digest, tag_json) = st.store.current_tag(&host.host_id).await?;
    let now = HostRow {
        tag_digest,
        tag_json,
        ..host.clone()
    };
    Ok(crate::tags::verified_tags(&now, quoted))
}

/// Integrity rules passed: the logs explain the quoted PCRs, so flavors may be taken from them.
fn report_integrity_ok(report: &TrustReport) -> bool {
    report
        .results
        .iter()
        .filter(|r| r.rule.is_log_integrity())
        .all(|r| r.trusted)
}

pub(crate) async fn load_group(st: &AppState, name: &str) -> Result<FlavorGroup, ServiceError> {
    let json = st
        .store
        .group(name)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("flavor group {name}")))?;
    serde_json::from_str(&json)
        .map_err(|e| ServiceError::Internal(format!("stored flavor group {name}: {e}")))
}

pub(crate) async fn load_flavors(
    st: &AppState,
    group_name: &str,
) -> Result<Vec<Flavor>, ServiceError> {
    st.store
        .flavors(Some(group_name))
        .await?
        .into_iter()
        .map(|r| {
            serde_json::from_str(&r.flavor)
                .map_err(|e| ServiceError::Internal(format!("stored flavor {}: {e}", r.flavor_id)))
        })
        .collect()
}

/// Parses (incrementally, through the host's evidence cache) and evaluates the logs. The
/// quote was verified before this is called, on every attestation: only log parsing and
/// rule evaluation of unchanged evidence are reused.
async fn evaluate_cached(
    st: &AppState,
    host: &HostRow,
    stored: &StoredEvidence,
    req: &EvidenceRequest,
    (group, flavors): (&Arc<FlavorGroup>, &Arc<[Flavor]>),
    now: u64,
    validity: u64,
) -> Result<TrustReport, ServiceError> {
    let group_name = group.name.as_str();
    // Take the host's cache out so that no lock is held while verifying; a concurrent
    // attestation of the same host simply starts from an empty cache. The caches are
    // bounded (hosts and bytes); a host whose cache was dropped is parsed afresh.
    let mut cache = st
        .evidence_caches
        .lock()
        .ok()
        .and_then(|mut m| m.remove(&host.host_id))
        .unwrap_or_default();
    let outcome = cache
        .update(
            stored.quoted.clone(),
            req.event_log.as_ref().map(|b| b.0.as_slice()),
            req.ima_log.as_ref().map(|b| b.0.as_slice()),
            stored.host.clone(),
        )
        .map(|ev| ev.verify(group, flavors, now, validity));
    let reused = cache.last_use().is_some_and(|u| u.verdict_reused);
    if let Ok(mut m) = st.evidence_caches.lock() {
        m.put(host.host_id.clone(), cache);
    }
    match outcome {
        Err(e) => Ok(rejected(
            host,
            group_name,
            now,
            validity,
            RuleId::Evidence,
            Fault::new(
                FaultName::EvidenceMalformed,
                format!("the measurement logs could not be parsed: {e}"),
            ),
        )),
        Ok(report) => {
            // Flavors are taken from the last evidence whose logs verified; unchanged
            // evidence was stored already.
            if !reused && report_integrity_ok(&report) {
                let json = serde_json::to_string(stored)
                    .map_err(|e| ServiceError::Internal(e.to_string()))?;
                st.store.set_last_evidence(&host.host_id, &json).await?;
            }
            Ok(report)
        }
    }
}

async fn store_signed(
    st: &AppState,
    report: TrustReport,
    expected: Option<TrustState>,
    next_attestation_in: u64,
) -> Result<Outcome, ServiceError> {
    let payload = serde_json::to_vec(&report).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let jws = st
        .signer
        .sign_compact("ironroot-trust-report+jws", &payload)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let report_id = uuid::Uuid::new_v4().to_string();
    // The report and the host's new state are written together, in the next group
    // commit, which moves the state by the verdict; the answer waits for it.
    let previous = st
        .verdicts
        .write(Verdict {
            report: ReportRow {
                report_id: report_id.clone(),
                host_id: report.host_id.clone(),
                created: report.created,
                expires: report.expires,
                trusted: report.trusted,
                report: String::from_utf8_lossy(&payload).into_owned(),
                jws: jws.clone(),
            },
            deadline: report.trusted.then_some(report.expires),
            expected,
            hostname: report.hostname.clone(),
            reasons: crate::admin::failure_lines(&report),
        })
        .await?;
    let now_state = previous
        .next(ironroot_api::TrustInput::from_verdict(report.trusted))
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    if previous != now_state {
        tracing::info!(host = %report.hostname, from = previous.as_str(), to = now_state.as_str(), "trust changed");
        st.events.poke();
    }
    Ok(Outcome {
        trusted: report.trusted,
        report_id,
        jws,
        next_attestation_in,
        report,
    })
}
