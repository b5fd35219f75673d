//! The open-loop schedule: every node attests on its own timer (the fleet's interval,
//! with jitter), whatever the service's latency, and each latency is measured from the
//! time the attestation was *scheduled*, so a slow service shows as latency rather than
//! as fewer requests (no coordinated omission).

use crate::conn::Target;
use crate::node::{Failure, FleetImage, SimNode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One rate held for a while. Unmeasured steps warm the service up.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub rate: f64,
    pub duration: Duration,
    pub measured: bool,
}

/// The whole run laid out on the clock.
pub struct Plan {
    pub nodes: usize,
    pub jitter: f64,
    pub timeout: Duration,
    /// (start, end, step) for every step, back to back.
    pub steps: Vec<(Instant, Instant, Step)>,
    pub stop: AtomicBool,
}

impl Plan {
    pub fn new(
        nodes: usize,
        jitter: f64,
        timeout: Duration,
        steps: &[Step],
        start: Instant,
    ) -> Self {
        let mut t = start;
        let steps = steps
            .iter()
            .map(|s| {
                let (a, b) = (t, t + s.duration);
                t = b;
                (a, b, *s)
            })
            .collect();
        Plan {
            nodes,
            jitter,
            timeout,
            steps,
            stop: AtomicBool::new(false),
        }
    }

    pub fn end(&self) -> Option<Instant> {
        self.steps.last().map(|s| s.1)
    }

    pub fn step_at(&self, t: Instant) -> Option<usize> {
        self.steps.iter().position(|(a, b, _)| *a <= t && t < *b)
    }

    /// Each node's interval at `t`: the fleet attests `rate` times a second in all.
    fn interval_at(&self, t: Instant) -> Option<Duration> {
        let (_, _, s) = self.steps.get(self.step_at(t)?)?;
        Some(Duration::from_secs_f64(
            self.nodes as f64 / s.rate.max(0.001),
        ))
    }
}

/// One attestation as measured.
#[derive(Debug, Clone)]
pub struct Sample {
    pub scheduled: Instant,
    pub completed: Instant,
    /// From the scheduled time to the verdict.
    pub latency: Duration,
    pub outcome: Result<(), Failure>,
}

#[derive(Default)]
pub struct Recorder {
    samples: Mutex<Vec<Sample>>,
}

impl Recorder {
    fn push(&self, s: Sample) {
        if let Ok(mut v) = self.samples.lock() {
            v.push(s);
        }
    }

    /// The samples scheduled in `[from, to)`.
    pub fn scheduled_in(&self, from: Instant, to: Instant) -> Vec<Sample> {
        self.samples.lock().map_or_else(
            |_| Vec::new(),
            |v| {
                v.iter()
                    .filter(|s| s.scheduled >= from && s.scheduled < to)
                    .cloned()
                    .collect()
            },
        )
    }
}

/// A small deterministic generator for jitter (xorshift64*).
struct Jitter(u64);

impl Jitter {
    /// Uniform in [-1, 1].
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (x as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Runs every node to the end of the plan (or until the plan is stopped).
pub async fn run(
    nodes: Vec<SimNode>,
    target: Arc<Target>,
    fleet: Arc<FleetImage>,
    plan: Arc<Plan>,
    rec: Arc<Recorder>,
) {
    let mut set = tokio::task::JoinSet::new();
    let count = nodes.len().max(1);
    for (i, node) in nodes.into_iter().enumerate() {
        let (target, fleet, plan, rec) = (target.clone(), fleet.clone(), plan.clone(), rec.clone());
        set.spawn(node_loop(i, count, node, target, fleet, plan, rec));
    }
    while set.join_next().await.is_some() {}
}

async fn node_loop(
    i: usize,
    count: usize,
    mut node: SimNode,
    target: Arc<Target>,
    fleet: Arc<FleetImage>,
    plan: Arc<Plan>,
    rec: Arc<Recorder>,
) {
    let (Some(&(start, _, _)), Some(end)) = (plan.steps.first(), plan.end()) else {
        return;
    };
    let mut rng =
        Jitter(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    let first = plan.interval_at(start).unwrap_or(Duration::from_secs(1));
    // Spread the fleet evenly over the first interval.
    let mut next = start + first.mul_f64((i as f64 + 0.5 * (rng.next() + 1.0)) / count as f64);
    while next < end && !plan.stop.load(Ordering::Relaxed) {
        tokio::time::sleep_until(next.into()).await;
        let outcome = match tokio::time::timeout(plan.timeout, node.attest(&target, &fleet)).await {
            Ok(r) => r,
            Err(_) => {
                node.drop_connection();
                Err(Failure::Transport("timeout"))
            }
        };
        let completed = Instant::now();
        rec.push(Sample {
            scheduled: next,
            completed,
            latency: completed.saturating_duration_since(next),
            outcome,
        });
        let Some(interval) = plan.interval_at(next) else {
            break;
        };
        next += interval.mul_f64((1.0 + plan.jitter * rng.next()).max(0.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_within_bounds_and_centred() {
        let mut j = Jitter(42);
        let xs: Vec<f64> = (0..100_000).map(|_| j.next()).collect();
        assert!(xs.iter().all(|x| (-1.0..=1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn each_node_interval_gives_the_fleet_rate() {
        let t0 = Instant::now();
        let steps = [
            Step {
                rate: 1000.0,
                duration: Duration::from_secs(10),
                measured: true,
            },
            Step {
                rate: 2000.0,
                duration: Duration::from_secs(10),
                measured: true,
            },
        ];
        let plan = Plan::new(2000, 0.1, Duration::from_secs(1), &steps, t0);
        assert_eq!(plan.interval_at(t0), Some(Duration::from_secs(2)));
        assert_eq!(
            plan.interval_at(t0 + Duration::from_secs(15)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(plan.interval_at(t0 + Duration::from_secs(20)), None);
        assert_eq!(plan.step_at(t0 + Duration::from_secs(10)), Some(1));
    }
}
