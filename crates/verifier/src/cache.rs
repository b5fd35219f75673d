//! A per-host cache for continuous attestation. A host re-sends the same boot event log
//! every time and an IMA list that only grows, so re-parsing and re-replaying both for
//! each quote is most of the cost of an evaluation. [`EvidenceCache`] keeps the last logs'
//! bytes, their parsed form, their replays and the last verdict, and redoes exactly what
//! changed bytes affect:
//!
//! - event log bytes identical to the cached bytes: the parsed log and its replay are
//!   reused; any other bytes are parsed from scratch;
//! - IMA bytes that start with the cached bytes: only the appended tail is parsed, its
//!   entries appended to the list, the index and the replay extended; any other bytes
//!   (a list rewritten anywhere, shortened, or whose last line was unterminated) are
//!   parsed from scratch;
//! - the verdict is reused only when the logs are unchanged and the quoted PCRs, the host
//!   facts the report carries, the flavor group and every flavor are equal to those it
//!   was made from. Only `created` and `expires` are restamped.
//!
//! Comparisons are of bytes and values, never of hashes. A parse error empties the cache.
//! The cache never sees the quote: the caller verifies its signature and nonce for every
//! attestation and passes in only the PCR values that verification proved.

use crate::context::{ImaIndex, Known};
use crate::integrity::ima_bank;
use crate::verify::verify_with;
use crate::{Evidence, Flavor, FlavorGroup, HostInfo, TrustReport};
use ironroot_crypto::HashAlg;
use ironroot_evidence::{EventLog, EventLogError, ImaError, ImaLog};
use ironroot_tpm_wire::PcrValues;
use std::sync::Arc;

/// Logs that could not be parsed. The cache is empty afterwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("event log: {0}")]
    EventLog(#[from] EventLogError),
    #[error("IMA list: {0}")]
    Ima(#[from] ImaError),
}

/// What an update did with one log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogUse {
    /// The host sent no such log.
    Absent,
    /// The bytes were those cached: nothing was parsed.
    Unchanged,
    /// The bytes extended those cached: only the new entries were parsed.
    Appended { entries: usize },
    /// Parsed from scratch (first time, or the bytes changed other than by appending).
    Parsed,
}

/// What the cache reused for the last attestation, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheUse {
    pub event_log: LogUse,
    pub ima: LogUse,
    /// The last verdict was returned again (with new timestamps) instead of re-evaluated.
    pub verdict_reused: bool,
}

/// The cached state of one host. Keep one per host, and feed it that host's evidence only.
#[derive(Debug, Default)]
pub struct EvidenceCache {
    state: Option<State>,
}

#[derive(Debug)]
struct State {
    /// Its logs are always the parse of the cached bytes below.
    evidence: Evidence,
    event_log: Option<CachedEventLog>,
    ima: Option<CachedIma>,
    /// Changes whenever either log's bytes change, so a verdict knows which logs it saw.
    generation: u64,
    verdict: Option<Verdict>,
    last_use: CacheUse,
}

#[derive(Debug)]
struct CachedEventLog {
    bytes: Vec<u8>,
    replay: PcrValues,
}

#[derive(Debug)]
struct CachedIma {
    bytes: Vec<u8>,
    index: ImaIndex,
    /// Made on first need, in the bank the quote calls for, then extended as entries come.
    replay: Option<ImaReplay>,
}

#[derive(Debug)]
struct ImaReplay {
    bank: HashAlg,
    /// Entries `[..upto]` are extended into `pcrs`.
    upto: usize,
    pcrs: PcrValues,
}

/// Everything a report depends on besides the logs (pinned by `generation`) and `now`.
#[derive(Debug)]
struct Verdict {
    generation: u64,
    quoted: PcrValues,
    host: HostInfo,
    group: FlavorGroup,
    /// Shared with the caller, so keeping it costs no copy of a long allow-list.
    flavors: Arc<[Flavor]>,
    report: TrustReport,
}

/// The evidence of the attestation in progress, borrowed from the cache.
#[derive(Debug)]
pub struct CachedEvidence<'c> {
    state: &'c mut State,
}

impl EvidenceCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the evidence of a new attestation of this host: `quoted` are the PCR values
    /// a quote whose signature and nonce the caller just verified proved, and the logs
    /// are the raw bytes the host sent. Parses only what differs from the cached bytes.
    /// On error the cache is left empty, so nothing of an earlier attestation survives.
    pub fn update(
        &mut self,
        quoted: PcrValues,
        event_log: Option<&[u8]>,
        ima: Option<&[u8]>,
        host: HostInfo,
    ) -> Result<CachedEvidence<'_>, EvidenceError> {
        let (old_log, old_ima, generation, verdict) = match self.state.take() {
            Some(s) => (
                s.evidence.event_log.zip(s.event_log),
                s.evidence.ima.zip(s.ima),
                s.generation,
                s.verdict,
            ),
            None => (None, None, 0, None),
        };
        let had_logs = (old_log.is_some(), old_ima.is_some());
        let (new_log, log_use) = update_event_log(old_log, event_log)?;
        let (new_ima, ima_use) = update_ima(old_ima, ima)?;
        let unchanged = |had: bool, used: LogUse| match used {
            LogUse::Unchanged => true,
            LogUse::Absent => !had,
            LogUse::Appended { .. } | LogUse::Parsed => false,
        };
        let same_logs = unchanged(had_logs.0, log_use) && unchanged(had_logs.1, ima_use);
        let (parsed_log, cached_log) = new_log.unzip();
        let (parsed_ima, cached_ima) = new_ima.unzip();
        let state = self.state.insert(State {
            evidence: Evidence {
                quoted,
                event_log: parsed_log,
                ima: parsed_ima,
                host,
            },
            event_log: cached_log,
            ima: cached_ima,
            generation: if same_logs {
                generation
            } else {
                generation.wrapping_add(1)
            },
            verdict,
            last_use: CacheUse {
                event_log: log_use,
                ima: ima_use,
                verdict_reused: false,
            },
        });
        Ok(CachedEvidence { state })
    }

    /// What the last update and verification reused; `None` when the cache is empty.
    pub fn last_use(&self) -> Option<CacheUse> {
        self.state.as_ref().map(|s| s.last_use)
    }

    /// Forgets everything, e.g. when the host is re-registered with a new AK.
    pub fn clear(&mut self) {
        self.state = None;
    }

    /// The bytes of the logs this cache keeps. Their parsed forms and index cost about
    /// as much again; callers bounding memory count this figure twice.
    pub fn retained_bytes(&self) -> usize {
        self.state.as_ref().map_or(0, |s| {
            s.event_log.as_ref().map_or(0, |c| c.bytes.len())
                + s.ima.as_ref().map_or(0, |c| c.bytes.len())
        })
    }
}

impl CachedEvidence<'_> {
    /// The evidence as [`crate::verify`] and [`crate::flavors_from_host`] take it.
    pub fn evidence(&self) -> &Evidence {
        &self.state.evidence
    }

    /// [`crate::verify`] of this evidence, reusing the cached replays, and the cached
    /// verdict when nothing it depends on changed. Gives the same report as `verify`.
    /// `flavors` are compared by value with those of the cached verdict (by pointer first,
    /// when the caller passes the same `Arc` again).
    pub fn verify(
        self,
        group: &FlavorGroup,
        flavors: &Arc<[Flavor]>,
        now: u64,
        validity_secs: u64,
    ) -> TrustReport {
        let s = self.state;
        let host = without_clock(&s.evidence.host);
        if let Some(v) = &s.verdict {
            if v.generation == s.generation
                && v.quoted == s.evidence.quoted
                && v.host == host
                && v.group == *group
                && (Arc::ptr_eq(&v.flavors, flavors) || *v.flavors == **flavors)
            {
                s.last_use.verdict_reused = true;
                let mut report = v.report.clone();
                report.created = now;
                report.expires = now.saturating_add(validity_secs);
                return report;
            }
        }
        s.last_use.verdict_reused = false;
        s.verdict = None;
        if let (Some(log), Some(cached), Some(bank)) =
            (&s.evidence.ima, &mut s.ima, ima_bank(&s.evidence.quoted))
        {
            cached.catch_up_replay(bank, log);
        }
        let known = Known {
            event_log: s.event_log.as_ref().map(|c| &c.replay),
            ima: s
                .ima
                .as_ref()
                .and_then(|c| c.replay.as_ref())
                .map(|r| (r.bank, &r.pcrs)),
            ima_index: s.ima.as_ref().map(|c| &c.index),
        };
        let report = verify_with(&s.evidence, known, group, flavors, now, validity_secs);
        s.verdict = Some(Verdict {
            generation: s.generation,
            quoted: s.evidence.quoted.clone(),
            host,
            group: group.clone(),
            flavors: Arc::clone(flavors),
            report: report.clone(),
        });
        report
    }
}

/// The host facts a report depends on: all but the TPM clock, which moves every quote.
fn without_clock(host: &HostInfo) -> HostInfo {
    HostInfo {
        clock_ms: 0,
        ..host.clone()
    }
}

type LogState = Option<(EventLog, CachedEventLog)>;
type ImaState = Option<(ImaLog, CachedIma)>;

fn update_event_log(
    old: LogState,
    bytes: Option<&[u8]>,
) -> Result<(LogState, LogUse), EventLogError> {
    let Some(bytes) = bytes else {
        return Ok((None, LogUse::Absent));
    };
    match old {
        Some((log, cached)) if cached.bytes == bytes => {
            Ok((Some((log, cached)), LogUse::Unchanged))
        }
        _ => {
            let log = EventLog::parse(bytes)?;
            let cached = CachedEventLog {
                bytes: bytes.to_vec(),
                replay: log.replay(),
            };
            Ok((Some((log, cached)), LogUse::Parsed))
        }
    }
}

fn update_ima(old: ImaState, bytes: Option<&[u8]>) -> Result<(ImaState, LogUse), ImaError> {
    let Some(bytes) = bytes else {
        return Ok((None, LogUse::Absent));
    };
    if let Some((mut log, mut cached)) = old {
        if let Some(tail) = bytes.strip_prefix(cached.bytes.as_slice()) {
            if tail.is_empty() {
                return Ok((Some((log, cached)), LogUse::Unchanged));
            }
            let before = log.entries.len();
            if log.parse_appended(&cached.bytes, tail)? {
                cached.bytes.extend_from_slice(tail);
                cached.index.extend(&log.entries);
                // The replay covers a prefix of the entries and is caught up on use.
                let entries = log.entries.len() - before;
                return Ok((Some((log, cached)), LogUse::Appended { entries }));
            }
        }
    }
    let log = ImaLog::parse(bytes)?;
    let cached = CachedIma {
        bytes: bytes.to_vec(),
        index: ImaIndex::new(&log.entries),
        replay: None,
    };
    Ok((Some((log, cached)), LogUse::Parsed))
}

impl CachedIma {
    /// Brings the replay in `bank` up to the end of `log`, from where it stopped, or from
    /// scratch when it was in another bank.
    fn catch_up_replay(&mut self, bank: HashAlg, log: &ImaLog) {
        let mut r = match self.replay.take() {
            Some(r) if r.bank == bank && r.upto <= log.entries.len() => r,
            _ => {
                let mut pcrs = PcrValues::default();
                pcrs.0.entry(bank).or_default();
                ImaReplay {
                    bank,
                    upto: 0,
                    pcrs,
                }
            }
        };
        log.replay_into(r.upto, &[bank], &mut r.pcrs);
        r.upto = log.entries.len();
        self.replay = Some(r);
    }
}
