//! The built-in log-integrity rules (ISecL's PcrEventLogIntegrity and
//! ImaMeasurementLogIntegrity). They run on every attestation, whatever the flavors say,
//! because every other rule reads the logs and a log is only evidence once it replays to
//! the quoted PCRs.

use crate::context::IMA_PCR;
use crate::fault::{Fault, FaultName};
use crate::report::RuleResult;
use crate::rule_id::RuleId;
use crate::Evidence;
use ironroot_crypto::HashAlg;
use ironroot_evidence::ImaLog;
use ironroot_tpm_wire::{Digest, PcrValues};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub(crate) struct Integrity {
    /// One result per log that was sent; a log that was not sent has nothing to check.
    pub results: Vec<RuleResult>,
    /// Whether the IMA list replays to the quote, so its file digests may be believed.
    pub ima_proven: bool,
}

/// `ima_known` is a replay of the IMA list in one bank the caller already holds; it is
/// used when it is the bank the check needs.
pub(crate) fn check(
    evidence: &Evidence,
    replayed: Option<&PcrValues>,
    ima_known: Option<(HashAlg, &PcrValues)>,
) -> Integrity {
    let mut out = Integrity::default();
    if let Some(replayed) = replayed {
        let faults = event_log_faults(&evidence.quoted, replayed);
        out.results
            .push(RuleResult::builtin(RuleId::EventLogIntegrity, faults));
    }
    if let Some(ima) = &evidence.ima {
        let faults = ima_faults(&evidence.quoted, ima, ima_known);
        out.ima_proven = faults.is_empty();
        out.results
            .push(RuleResult::builtin(RuleId::ImaLogIntegrity, faults));
    }
    out
}

/// The value of a PCR nothing was extended into. PCRs 17-22 start at all ones instead, so
/// a log that never touches them cannot prove them: comparing with zeros fails closed.
pub(crate) fn reset_value(bank: HashAlg) -> Digest {
    Digest(vec![0; bank.len()])
}

/// Every PCR the log extends, in every bank the quote covers, must be quoted and equal
/// the replay. Banks the quote does not cover stay unproven; rules on them fail.
fn event_log_faults(quoted: &PcrValues, replayed: &PcrValues) -> Vec<Fault> {
    let mut faults = Vec::new();
    let mut any_bank_checked = false;
    for (bank, pcrs) in &replayed.0 {
        if !quoted.0.contains_key(bank) {
            continue;
        }
        any_bank_checked = true;
        for (index, value) in pcrs {
            faults.extend(compare(
                quoted,
                *bank,
                *index,
                value,
                FaultName::EventLogReplayMismatch,
                "event log",
            ));
        }
    }
    // The replay lists every header bank, extended or not; only extended ones need a quote.
    let extended: Vec<&str> = replayed
        .0
        .iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(b, _)| b.name())
        .collect();
    if !any_bank_checked && !extended.is_empty() {
        let banks = extended;
        faults.push(Fault::new(
            FaultName::PcrValueMissing,
            format!(
                "the quote covers none of the banks the event log extends ({})",
                banks.join(", ")
            ),
        ));
    }
    faults
}

/// PCR 10 (and any other PCR the IMA policy extends) must replay in the strongest quoted
/// bank that holds PCR 10. One bank is enough proof, since a list cannot be forged to
/// match it, and replay costs two hashes per entry per bank, the bulk of an evaluation.
/// A quote without PCR 10 cannot prove the list at all.
fn ima_faults(
    quoted: &PcrValues,
    ima: &ImaLog,
    known: Option<(HashAlg, &PcrValues)>,
) -> Vec<Fault> {
    let Some(bank) = ima_bank(quoted) else {
        return vec![Fault::new(
            FaultName::PcrValueMissing,
            format!("the quote does not cover PCR {IMA_PCR}, so the IMA list cannot be checked"),
        )];
    };
    let replayed = match known {
        Some((b, r)) if b == bank => Cow::Borrowed(r),
        _ => Cow::Owned(ima.replay(&[bank])),
    };
    let reset = reset_value(bank);
    let ima_value = replayed.get(bank, IMA_PCR).unwrap_or(&reset);
    let mut faults: Vec<Fault> = compare(
        quoted,
        bank,
        IMA_PCR,
        ima_value,
        FaultName::ImaReplayMismatch,
        "IMA list",
    )
    .into_iter()
    .collect();
    let others = replayed
        .0
        .get(&bank)
        .into_iter()
        .flatten()
        .filter(|(i, _)| **i != IMA_PCR);
    for (index, value) in others {
        faults.extend(compare(
            quoted,
            bank,
            *index,
            value,
            FaultName::ImaReplayMismatch,
            "IMA list",
        ));
    }
    faults
}

/// The bank the IMA list is checked in: the strongest quoted bank that holds PCR 10.
pub(crate) fn ima_bank(quoted: &PcrValues) -> Option<HashAlg> {
    quoted
        .banks()
        .filter(|b| quoted.get(*b, IMA_PCR).is_some())
        .max()
}

fn compare(
    quoted: &PcrValues,
    bank: HashAlg,
    index: u32,
    replayed: &Digest,
    mismatch: FaultName,
    what: &str,
) -> Option<Fault> {
    match quoted.get(bank, index) {
        None => Some(
            Fault::new(
                FaultName::PcrValueMissing,
                format!("the {what} extends PCR {index} ({bank}) but the quote does not cover it"),
            )
            .at(bank, index),
        ),
        Some(q) if q != replayed => Some(
            Fault::new(
                mismatch,
                format!(
                    "the {what} replays PCR {index} ({bank}) to {} but the TPM quoted {}",
                    short(replayed),
                    short(q)
                ),
            )
            .at(bank, index)
            .values(replayed.hex(), q.hex()),
        ),
        Some(_) => None,
    }
}

/// The first 8 bytes of a digest, enough to tell values apart in a sentence; the fault's
/// `expected`/`actual` fields carry the full values.
pub(crate) fn short(d: &Digest) -> String {
    let hex = d.hex();
    match hex.get(..16) {
        Some(head) if hex.len() > 16 => format!("{head}…"),
        _ => hex,
    }
}
