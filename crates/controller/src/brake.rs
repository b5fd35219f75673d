//! The brake on remediation: drains start at a bounded rate, and stop altogether when a
//! large share of the Nodes turns untrusted at once.
//!
//! A mass reboot, an outage or a bad flavor push looks like many nodes failing together;
//! evicting them all would take the cluster down, which an attacker could also cause. So
//! (as Kubernetes' node lifecycle controller does for unhealthy zones) the controller
//! stops draining and raises an alert instead, and starts again only when the share falls.
//! Pure: time comes in as an argument.

use std::time::{Duration, Instant};

/// The brake's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrakeConfig {
    /// Hold every drain when more than this percentage of the managed Nodes is untrusted.
    pub max_untrusted_percent: u32,
    /// ...and at least this many Nodes are (one tampered Node in a small cluster is
    /// always drained).
    pub min_untrusted_nodes: usize,
    /// Node drains started per second, at most (Kubernetes evicts 0.1 nodes/s).
    pub drains_per_second: f64,
    /// Drains that may start at once before the rate applies.
    pub burst: u32,
}

impl Default for BrakeConfig {
    fn default() -> Self {
        BrakeConfig {
            max_untrusted_percent: 50,
            min_untrusted_nodes: 2,
            drains_per_second: 0.1,
            burst: 3,
        }
    }
}

/// Whether the brake holds, as last assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrakeState {
    Released,
    /// Drains are held: `untrusted` of `managed` Nodes are untrusted.
    Held {
        untrusted: usize,
        managed: usize,
    },
}

/// What to do about one Node that should be drained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainVerdict {
    Start,
    /// The rate allows the next drain after this long.
    Later(Duration),
    /// The brake holds.
    Held,
}

#[derive(Debug)]
pub struct Brake {
    cfg: BrakeConfig,
    state: BrakeState,
    tokens: f64,
    refilled: Instant,
}

impl Brake {
    pub fn new(cfg: BrakeConfig, now: Instant) -> Brake {
        Brake {
            cfg,
            state: BrakeState::Released,
            tokens: f64::from(cfg.burst.max(1)),
            refilled: now,
        }
    }

    pub fn state(&self) -> BrakeState {
        self.state
    }

    /// Re-assesses the share of untrusted Nodes; returns the new state when it changed
    /// (the caller raises or clears the alert then).
    pub fn assess(&mut self, untrusted: usize, managed: usize) -> Option<BrakeState> {
        let over_share = (untrusted as u128) * 100
            > u128::from(self.cfg.max_untrusted_percent) * managed as u128;
        let next = if over_share && untrusted >= self.cfg.min_untrusted_nodes {
            BrakeState::Held { untrusted, managed }
        } else {
            BrakeState::Released
        };
        let changed = !matches!(
            (self.state, next),
            (BrakeState::Released, BrakeState::Released)
                | (BrakeState::Held { .. }, BrakeState::Held { .. })
        );
        self.state = next;
        changed.then_some(next)
    }

    /// Asks to start draining one Node now.
    pub fn take(&mut self, now: Instant) -> DrainVerdict {
        if matches!(self.state, BrakeState::Held { .. }) {
            return DrainVerdict::Held;
        }
        let rate = self.cfg.drains_per_second.max(f64::MIN_POSITIVE);
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(f64::from(self.cfg.burst.max(1)));
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            DrainVerdict::Start
        } else {
            DrainVerdict::Later(Duration::from_secs_f64(
                ((1.0 - self.tokens) / rate).min(3600.0),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brake() -> (Brake, Instant) {
        let t = Instant::now();
        (Brake::new(BrakeConfig::default(), t), t)
    }

    #[test]
    fn one_tampered_node_of_three_is_drained() {
        let (mut b, t) = brake();
        assert_eq!(b.assess(1, 3), None);
        assert_eq!(b.take(t), DrainVerdict::Start);
    }

    #[test]
    fn a_mass_flip_holds_every_drain_until_the_share_falls() {
        let (mut b, t) = brake();
        assert_eq!(
            b.assess(3, 5),
            Some(BrakeState::Held {
                untrusted: 3,
                managed: 5
            })
        );
        assert_eq!(b.take(t), DrainVerdict::Held);
        // Still held as more flip: no second alert.
        assert_eq!(b.assess(4, 5), None);
        assert_eq!(
            b.state(),
            BrakeState::Held {
                untrusted: 4,
                managed: 5
            }
        );
        assert_eq!(b.assess(1, 5), Some(BrakeState::Released));
        assert_eq!(b.take(t), DrainVerdict::Start);
    }

    #[test]
    fn half_is_not_over_half_and_one_node_never_holds() {
        let (mut b, _) = brake();
        assert_eq!(b.assess(2, 4), None);
        assert_eq!(
            b.assess(1, 1),
            None,
            "a one-node cluster still drains its tampered node"
        );
        assert_eq!(
            b.assess(2, 2),
            Some(BrakeState::Held {
                untrusted: 2,
                managed: 2
            })
        );
    }

    #[test]
    fn drains_start_at_the_configured_rate_after_the_burst() {
        let (mut b, t) = brake();
        for _ in 0..3 {
            assert_eq!(b.take(t), DrainVerdict::Start);
        }
        match b.take(t) {
            DrainVerdict::Later(d) => assert!((9.9..=10.1).contains(&d.as_secs_f64()), "{d:?}"),
            v => panic!("{v:?}"),
        }
        assert_eq!(b.take(t + Duration::from_secs(10)), DrainVerdict::Start);
        assert!(matches!(
            b.take(t + Duration::from_secs(10)),
            DrainVerdict::Later(_)
        ));
    }
}
