//! The policy core of ironroot's verifier: it turns verified TPM evidence into a
//! [`TrustReport`] by checking the evidence against flavors, the known-good measurements
//! of ISecL-DC's model, under a flavor group's match policies.
//!
//! # What happens in [`verify`]
//! 1. The built-in integrity rules run whatever the flavors say: the boot event log must
//!    replay to the quoted value of every PCR it extends, in every bank the quote covers
//!    (`event_log_integrity`), and the IMA list must replay to the quoted PCR 10 in the
//!    strongest bank that holds it (`ima_log_integrity`). A PCR a log extends that the quote lacks is a fault.
//! 2. Each match policy of the group picks the flavors of its part (HOST_UNIQUE and
//!    ASSET_TAG flavors only when their `host_id` is this host) and combines them with
//!    any_of, all_of or latest; `required` policies fail when there are none. Flavors of a
//!    part the group has no policy for are not evaluated.
//! 3. The host is trusted only if every integrity rule and every policy passes, the
//!    group has at least one policy, and at least one flavor rule was evaluated: policies
//!    that all pass on nothing (REQUIRED_IF_DEFINED, no flavors) are `NoRulesEvaluated`.
//!    [`FlavorGroup::check`] refuses, before it is stored, a group that could end so.
//!
//! Logs are replayed and indexed once per evaluation, however many flavors read them.
//! For continuous attestation, [`EvidenceCache`] keeps one host's parsed logs, replays
//! and last verdict between attestations and redoes only what changed bytes affect;
//! [`EvidenceCaches`] holds those of many hosts within a bound on hosts and bytes.
//!
//! # The default flavor template
//! [`FlavorTemplate::default_uefi`] is our counterpart of ISecL's `default-linux` template
//! for a UEFI machine that runs containers. All rules use the strongest bank present
//! (sha384, then sha256, then sha1):
//! - PLATFORM: `pcr_matches` for PCRs 0, 1, 2, 3 and 7 (firmware, its configuration,
//!   option ROMs, Secure Boot policy) and `event_log_equals` for PCRs 0 and 7;
//! - OS: `event_log_includes` for PCR 4 (boot loader and kernel images,
//!   EV_EFI_BOOT_SERVICES_APPLICATION) and PCR 9 (kernel and initrd EV_IPL events, when
//!   the boot loader logs them);
//! - HOST_UNIQUE: `event_log_equals` for PCR 8 (kernel command line) and `pcr_matches` for
//!   PCRs 8 and 9, bound to the golden host;
//! - SOFTWARE: `ima_files` allowing each path the IMA list measured, except
//!   `boot_aggregate`, with the digests seen.
//!
//! # What this crate must never do
//! - I/O of any kind, or read the clock: callers pass `now` in unix seconds.
//! - Trust a log that does not replay to the quote, or call a host trusted when something
//!   could not be checked: every gap (no policy, no flavor, no rules, an empty allow-list,
//!   an unsupported rule) is a fault.
//! - Verify quote signatures: its input is PCR values a verified quote already proved.

#![forbid(unsafe_code)]

mod boot;
mod cache;
mod caches;
mod context;
mod error;
mod evidence;
mod fault;
mod flavor;
mod group;
mod ima_rule;
mod integrity;
mod report;
mod rule_id;
mod rules;
mod template;
mod verify;

pub use boot::{reboot_detected, BootChange};
pub use cache::{CacheUse, CachedEvidence, EvidenceCache, EvidenceError, LogUse};
pub use caches::EvidenceCaches;
pub use error::VerifierError;
pub use evidence::{Evidence, HostInfo};
pub use fault::{Fault, FaultName};
pub use flavor::{ExpectedEvent, Flavor, FlavorMeta, FlavorPart, Rule};
pub use group::{FlavorGroup, GroupError, MatchPolicy, MatchType, Required, Schedule};
pub use report::{RuleResult, TrustReport};
pub use rule_id::{RuleId, RuleKind};
pub use template::{flavors_from_host, EqualsPcr, FlavorTemplate, TemplatePart};
pub use verify::verify;
