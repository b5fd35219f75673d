//! Making flavors from a golden host, following a template that says which PCRs and logs
//! each flavor part checks.

use crate::context::{Context, IMA_PCR};
use crate::error::VerifierError;
use crate::flavor::{ExpectedEvent, Flavor, FlavorMeta, FlavorPart, Rule};
use crate::rules::{log_unproven, seen};
use crate::Evidence;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The IMA entry that records the boot aggregate; it is checked by replay, not by path.
const BOOT_AGGREGATE: &str = "boot_aggregate";

/// Bank preference, strongest first, as in ISecL-DC (one bank per flavor).
const BANK_PREFERENCE: [HashAlg; 3] = [HashAlg::Sha384, HashAlg::Sha256, HashAlg::Sha1];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlavorTemplate {
    pub parts: Vec<TemplatePart>,
}

/// What one flavor part checks. Each listed PCR becomes one rule in that part's flavor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplatePart {
    pub part: FlavorPart,
    #[serde(default)]
    pub pcr_matches: Vec<u32>,
    #[serde(default)]
    pub event_log_equals: Vec<EqualsPcr>,
    /// PCRs whose events the host must include. A PCR without events is skipped.
    #[serde(default)]
    pub event_log_includes: Vec<u32>,
    /// Add an `ima_files` rule allowing every file and digest the host measured.
    #[serde(default)]
    pub ima: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqualsPcr {
    pub index: u32,
    /// Event types left out on both sides, e.g. events that change on every boot.
    #[serde(default)]
    pub excluding_types: Vec<String>,
}

impl FlavorTemplate {
    /// The default template; see the crate documentation for what each part checks.
    pub fn default_uefi() -> Self {
        let part = |part| TemplatePart {
            part,
            pcr_matches: Vec::new(),
            event_log_equals: Vec::new(),
            event_log_includes: Vec::new(),
            ima: false,
        };
        let equals = |index| EqualsPcr {
            index,
            excluding_types: Vec::new(),
        };
        FlavorTemplate {
            parts: vec![
                TemplatePart {
                    pcr_matches: vec![0, 1, 2, 3, 7],
                    event_log_equals: vec![equals(0), equals(7)],
                    ..part(FlavorPart::Platform)
                },
                TemplatePart {
                    event_log_includes: vec![4, 9],
                    ..part(FlavorPart::Os)
                },
                TemplatePart {
                    pcr_matches: vec![8, 9],
                    event_log_equals: vec![equals(8)],
                    ..part(FlavorPart::HostUnique)
                },
                TemplatePart {
                    ima: true,
                    ..part(FlavorPart::Software)
                },
            ],
        }
    }

    fn needs_event_log(&self) -> bool {
        self.parts
            .iter()
            .any(|p| !p.event_log_equals.is_empty() || !p.event_log_includes.is_empty())
    }
}

/// Makes one flavor per template part from a golden host's evidence, all in the strongest
/// bank the quote (and the event log, if the template reads it) covers. Fails unless the
/// evidence passes the built-in integrity rules: a flavor must never enshrine a forged log.
pub fn flavors_from_host(
    evidence: &Evidence,
    template: &FlavorTemplate,
    label: &str,
    now: u64,
) -> Result<Vec<Flavor>, VerifierError> {
    let ctx = Context::new(evidence);
    let faults: Vec<_> = ctx
        .integrity
        .results
        .iter()
        .flat_map(|r| r.faults.iter().cloned())
        .collect();
    if !faults.is_empty() {
        return Err(VerifierError::EvidenceNotIntact(faults));
    }
    let bank = choose_bank(&ctx, template.needs_event_log())?;
    template
        .parts
        .iter()
        .map(|tp| {
            let rules = part_rules(&ctx, bank, tp)?;
            if rules.is_empty() {
                return Err(VerifierError::EmptyFlavor(tp.part));
            }
            Ok(Flavor {
                id: Uuid::new_v4(),
                meta: meta(evidence, tp.part, bank, label, now),
                rules,
            })
        })
        .collect()
}

fn choose_bank(ctx: &Context<'_>, needs_log: bool) -> Result<HashAlg, VerifierError> {
    let log_banks = match (&ctx.replayed, needs_log) {
        (None, true) => return Err(VerifierError::EventLogMissing),
        (Some(replayed), true) => Some(replayed),
        _ => None,
    };
    BANK_PREFERENCE
        .into_iter()
        .find(|b| ctx.quoted().0.contains_key(b) && log_banks.is_none_or(|l| l.0.contains_key(b)))
        .ok_or(VerifierError::NoUsableBank)
}

fn meta(evidence: &Evidence, part: FlavorPart, bank: HashAlg, label: &str, now: u64) -> FlavorMeta {
    let host = &evidence.host;
    FlavorMeta {
        label: label.to_string(),
        part,
        vendor: host.vendor.clone(),
        description: format!(
            "{part} flavor made from host {} ({}) using the {bank} bank",
            host.hostname, host.host_id
        ),
        created: now,
        host_id: part.is_host_bound().then(|| host.host_id.clone()),
    }
}

fn part_rules(
    ctx: &Context<'_>,
    bank: HashAlg,
    tp: &TemplatePart,
) -> Result<Vec<Rule>, VerifierError> {
    let mut rules = Vec::new();
    for &index in &tp.pcr_matches {
        let value = ctx
            .quoted()
            .get(bank, index)
            .ok_or(VerifierError::PcrNotQuoted { bank, index })?;
        rules.push(Rule::PcrMatches {
            bank,
            index,
            value: value.clone(),
        });
    }
    for eq in &tp.event_log_equals {
        let events = proven_events(ctx, bank, eq.index, &eq.excluding_types)?;
        rules.push(Rule::EventLogEquals {
            bank,
            index: eq.index,
            events,
            excluding_types: eq.excluding_types.clone(),
        });
    }
    for &index in &tp.event_log_includes {
        let events = proven_events(ctx, bank, index, &[])?;
        if !events.is_empty() {
            rules.push(Rule::EventLogIncludes {
                bank,
                index,
                events,
            });
        }
    }
    if tp.ima {
        rules.extend(ima_rules(ctx)?);
    }
    Ok(rules)
}

fn proven_events(
    ctx: &Context<'_>,
    bank: HashAlg,
    index: u32,
    excluding: &[String],
) -> Result<Vec<ExpectedEvent>, VerifierError> {
    if let Some(fault) = log_unproven(ctx, bank, index) {
        return Err(VerifierError::EvidenceNotIntact(vec![fault]));
    }
    Ok(ctx
        .events(bank, index)
        .iter()
        .filter(|e| !excluding.iter().any(|x| x == e.event.event_type.name()))
        .map(seen)
        .collect())
}

/// One `ima_files` rule per file-digest algorithm the list uses (normally just one).
fn ima_rules(ctx: &Context<'_>) -> Result<Vec<Rule>, VerifierError> {
    let ima = ctx
        .evidence
        .ima
        .as_ref()
        .ok_or(VerifierError::ImaLogMissing)?;
    let mut by_alg: BTreeMap<HashAlg, BTreeMap<String, Vec<Digest>>> = BTreeMap::new();
    for e in ima
        .entries
        .iter()
        .filter(|e| e.pcr == IMA_PCR && e.path != BOOT_AGGREGATE)
    {
        let allowed = by_alg
            .entry(e.file_digest_alg)
            .or_default()
            .entry(e.path.clone())
            .or_default();
        if !allowed.contains(&e.file_digest) {
            allowed.push(e.file_digest.clone());
        }
    }
    if by_alg.is_empty() {
        return Err(VerifierError::EmptyFlavor(FlavorPart::Software));
    }
    Ok(by_alg
        .into_iter()
        .map(|(hash, files)| Rule::ImaFiles { hash, files })
        .collect())
}
