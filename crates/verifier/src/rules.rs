//! Evaluation of one flavor rule against the indexed evidence. Each function returns the
//! faults it found; no faults means the rule passed.

use crate::context::{Context, LoggedEvent};
use crate::fault::{Fault, FaultName};
use crate::flavor::{ExpectedEvent, Rule};
use crate::integrity::{reset_value, short};
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use std::collections::BTreeMap;

pub(crate) fn evaluate(rule: &Rule, ctx: &Context<'_>) -> Vec<Fault> {
    match rule {
        Rule::PcrMatches { bank, index, value } => {
            pcr_matches(ctx, *bank, *index, value).into_iter().collect()
        }
        Rule::EventLogEquals {
            bank,
            index,
            events,
            excluding_types,
        } => event_log_equals(ctx, *bank, *index, events, excluding_types),
        Rule::EventLogIncludes {
            bank,
            index,
            events,
        } => event_log_includes(ctx, *bank, *index, events),
        Rule::ImaFiles { hash, files } => crate::ima_rule::ima_files(ctx, *hash, files),
        Rule::AssetTagMatches { digest } => asset_tag_matches(ctx, digest).into_iter().collect(),
    }
}

fn pcr_matches(ctx: &Context<'_>, bank: HashAlg, index: u32, value: &Digest) -> Option<Fault> {
    match ctx.quoted().get(bank, index) {
        None => Some(missing_pcr(bank, index)),
        Some(q) if q != value => Some(
            Fault::new(
                FaultName::PcrValueMismatch,
                format!(
                    "PCR {index} ({bank}) is {} but the flavor expects {}",
                    short(q),
                    short(value)
                ),
            )
            .at(bank, index)
            .values(value.hex(), q.hex()),
        ),
        Some(_) => None,
    }
}

/// The tag the quote covered is the one the flavor names. The caller sets
/// `HostInfo::asset_tag` only after checking the quote's nonce folded that digest in.
fn asset_tag_matches(ctx: &Context<'_>, expected: &Digest) -> Option<Fault> {
    match &ctx.evidence.host.asset_tag {
        None => Some(
            Fault::new(
                FaultName::AssetTagMismatch,
                "the node presented no asset tag, but one was provisioned for it",
            )
            .values(expected.hex(), String::new()),
        ),
        Some(seen) if seen != expected => Some(
            Fault::new(
                FaultName::AssetTagMismatch,
                format!(
                    "the node presented asset tag {} but {} was provisioned for it",
                    short(seen),
                    short(expected)
                ),
            )
            .values(expected.hex(), seen.hex()),
        ),
        Some(_) => None,
    }
}

fn missing_pcr(bank: HashAlg, index: u32) -> Fault {
    Fault::new(
        FaultName::PcrValueMissing,
        format!("PCR {index} ({bank}) is not in the quote"),
    )
    .at(bank, index)
}

/// The log's entries for a PCR are only evidence if they replay to the quoted value. The
/// integrity rule checks the PCRs the log touches; this also covers a PCR the log never
/// mentions, whose quoted value must then still be the reset value.
pub(crate) fn log_unproven(ctx: &Context<'_>, bank: HashAlg, index: u32) -> Option<Fault> {
    let Some(replayed) = &ctx.replayed else {
        return Some(
            Fault::new(
                FaultName::EventLogMissing,
                "the flavor checks the event log but the host sent none",
            )
            .at(bank, index),
        );
    };
    let quoted = ctx.quoted().get(bank, index);
    let Some(quoted) = quoted else {
        return Some(missing_pcr(bank, index));
    };
    let reset = reset_value(bank);
    let from_log = replayed.get(bank, index).unwrap_or(&reset);
    (from_log != quoted).then(|| {
        Fault::new(
            FaultName::EventLogReplayMismatch,
            format!(
                "the event log does not account for PCR {index} ({bank}): it replays to {} but the TPM quoted {}",
                short(from_log),
                short(quoted)
            ),
        )
        .at(bank, index)
        .values(from_log.hex(), quoted.hex())
    })
}

pub(crate) fn seen(e: &LoggedEvent<'_>) -> ExpectedEvent {
    ExpectedEvent {
        event_type: e.event.event_type.name().to_string(),
        digest: e.digest.clone(),
        description: e.event.description(),
    }
}

type Key<'k> = (&'k str, &'k [u8]);

fn event_log_equals(
    ctx: &Context<'_>,
    bank: HashAlg,
    index: u32,
    expected: &[ExpectedEvent],
    excluding: &[String],
) -> Vec<Fault> {
    if let Some(f) = log_unproven(ctx, bank, index) {
        return vec![f];
    }
    let actual: Vec<&LoggedEvent<'_>> = ctx
        .events(bank, index)
        .iter()
        .filter(|e| !excluding.iter().any(|x| x == e.event.event_type.name()))
        .collect();
    let in_order = actual.len() == expected.len()
        && actual
            .iter()
            .zip(expected)
            .all(|(a, x)| a.event.event_type.name() == x.event_type && *a.digest == x.digest);
    if in_order {
        return Vec::new();
    }
    // Count each (type, digest) so that a repeated event is matched once per occurrence.
    let mut counts: BTreeMap<Key<'_>, isize> = BTreeMap::new();
    for x in expected {
        *counts
            .entry((x.event_type.as_str(), x.digest.0.as_slice()))
            .or_default() += 1;
    }
    let mut unexpected = Vec::new();
    for a in &actual {
        match counts.get_mut(&(a.event.event_type.name(), a.digest.0.as_slice())) {
            Some(n) if *n > 0 => *n -= 1,
            _ => unexpected.push(seen(a)),
        }
    }
    let mut missing = Vec::new();
    for x in expected.iter().rev() {
        if let Some(n) = counts.get_mut(&(x.event_type.as_str(), x.digest.0.as_slice())) {
            if *n > 0 {
                *n -= 1;
                missing.push(x.clone());
            }
        }
    }
    missing.reverse();
    diff_faults(bank, index, missing, unexpected)
}

fn diff_faults(
    bank: HashAlg,
    index: u32,
    missing: Vec<ExpectedEvent>,
    unexpected: Vec<ExpectedEvent>,
) -> Vec<Fault> {
    let mut faults = Vec::new();
    if !missing.is_empty() {
        faults.push(missing_fault(bank, index, missing));
    }
    if !unexpected.is_empty() {
        let mut f = Fault::new(
            FaultName::EventLogContainsUnexpectedEntries,
            format!(
                "PCR {index} ({bank}) has {} event(s) the flavor does not expect: {}",
                unexpected.len(),
                list(&unexpected)
            ),
        )
        .at(bank, index);
        f.unexpected_entries = unexpected;
        faults.push(f);
    }
    if faults.is_empty() {
        faults.push(
            Fault::new(
                FaultName::EventLogOrderMismatch,
                format!("PCR {index} ({bank}) has the expected events but in a different order"),
            )
            .at(bank, index),
        );
    }
    faults
}

fn missing_fault(bank: HashAlg, index: u32, missing: Vec<ExpectedEvent>) -> Fault {
    let mut f = Fault::new(
        FaultName::EventLogMissingExpectedEntries,
        format!(
            "PCR {index} ({bank}) lacks {} expected event(s): {}",
            missing.len(),
            list(&missing)
        ),
    )
    .at(bank, index);
    f.missing_entries = missing;
    f
}

fn list(events: &[ExpectedEvent]) -> String {
    let shown: Vec<String> = events
        .iter()
        .take(3)
        .map(|e| {
            format!("{} {} {}", e.event_type, short(&e.digest), e.description)
                .trim_end()
                .to_string()
        })
        .collect();
    let more = events.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{}; and {more} more", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

fn event_log_includes(
    ctx: &Context<'_>,
    bank: HashAlg,
    index: u32,
    expected: &[ExpectedEvent],
) -> Vec<Fault> {
    if expected.is_empty() {
        return vec![Fault::new(
            FaultName::EmptyRule,
            format!("event_log_includes for PCR {index} ({bank}) lists no events"),
        )
        .at(bank, index)];
    }
    if let Some(f) = log_unproven(ctx, bank, index) {
        return vec![f];
    }
    let events = ctx.events(bank, index);
    let missing: Vec<ExpectedEvent> = expected
        .iter()
        .filter(|x| {
            !events
                .iter()
                .any(|e| e.event.event_type.name() == x.event_type && *e.digest == x.digest)
        })
        .cloned()
        .collect();
    if missing.is_empty() {
        Vec::new()
    } else {
        vec![missing_fault(bank, index, missing)]
    }
}
