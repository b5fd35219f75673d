//! Reboot tracking from the TPM's resetCount and restartCount, which every quote carries.
//! The service uses it to drop what it knew about a host and evaluate afresh.

use serde::{Deserialize, Serialize};

/// How a host's boot changed between two attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BootChange {
    /// No earlier attestation to compare with.
    FirstSeen,
    /// Same boot: both counters unchanged.
    Same,
    /// resetCount went up: the host rebooted (or the TPM was reset).
    Rebooted,
    /// restartCount went up within the same boot: resume from hibernation.
    Resumed,
    /// A counter went down. A TPM cannot do that within one life, so the TPM was cleared
    /// or replaced, or the evidence is stale or replayed. Treat it as suspect.
    ClockWentBackwards,
}

impl BootChange {
    /// Whether earlier results about this host no longer apply.
    pub const fn needs_fresh_evaluation(self) -> bool {
        !matches!(self, BootChange::Same)
    }
}

/// Compares `(reset_count, restart_count)` from the previous and the current quote.
pub fn reboot_detected(previous: Option<(u32, u32)>, now: (u32, u32)) -> BootChange {
    let Some((prev_reset, prev_restart)) = previous else {
        return BootChange::FirstSeen;
    };
    let (reset, restart) = now;
    match reset.cmp(&prev_reset) {
        std::cmp::Ordering::Greater => BootChange::Rebooted,
        std::cmp::Ordering::Less => BootChange::ClockWentBackwards,
        std::cmp::Ordering::Equal => match restart.cmp(&prev_restart) {
            std::cmp::Ordering::Greater => BootChange::Resumed,
            std::cmp::Ordering::Less => BootChange::ClockWentBackwards,
            std::cmp::Ordering::Equal => BootChange::Same,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition() {
        let cases = [
            (None, (5, 0), BootChange::FirstSeen),
            (Some((5, 0)), (5, 0), BootChange::Same),
            (Some((5, 2)), (6, 0), BootChange::Rebooted),
            (Some((5, 0)), (5, 1), BootChange::Resumed),
            (Some((5, 0)), (4, 9), BootChange::ClockWentBackwards),
            (Some((5, 3)), (5, 2), BootChange::ClockWentBackwards),
        ];
        for (prev, now, want) in cases {
            assert_eq!(reboot_detected(prev, now), want, "{prev:?} -> {now:?}");
        }
    }

    #[test]
    fn only_same_keeps_earlier_results() {
        assert!(!BootChange::Same.needs_fresh_evaluation());
        for c in [
            BootChange::FirstSeen,
            BootChange::Rebooted,
            BootChange::Resumed,
            BootChange::ClockWentBackwards,
        ] {
            assert!(c.needs_fresh_evaluation(), "{c:?}");
        }
    }
}
