//! The open-loop schedule: every node attests on its own timer (the fleet's interval,
//! with jitter), whatever the service's latency, and each latency is measured from the
//! time the attestation was *scheduled*, so a slow service shows as latency rather than
//! as fewer requests (no coordinated omission).

use crate::conn::Target;
use crate::node::{AttemptError, Failure, FleetImage, SimNode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// One attestation as measured (with its retries on other replicas, if any).
#[derive(Debug, Clone)]
pub struct Sample {
    pub node: usize,
    pub scheduled: Instant,
    pub completed: Instant,
    /// From the scheduled time to the verdict.
    pub latency: Duration,
    /// `Ok` only for a trusted verdict.
    pub outcome: Result<(), Failure>,
    /// The report of the verdict the service answered (trusted or not).
    pub report_id: Option<String>,
    /// The replicas the answered (or last) attempt used: challenge, evidence.
    pub replicas: (usize, usize),
    /// Earlier attempts that failed and were retried on another replica.
    pub retried: Vec<AttemptError>,
}

/// The replicas node `i` uses while all `n` are up: the challenge from replica `i % n`,
/// the evidence to the next one, so that every attestation crosses replicas.
pub fn home_pair(i: usize, n: usize) -> (usize, usize) {
    let n = n.max(1);
    (i % n, (i + 1) % n)
}

/// The fleet's shared view of which replicas are down, as a load balancer with passive
/// health checks keeps it: a replica whose connection failed is avoided for a while,
/// then tried again by the next node that needs it.
pub struct Health {
    origin: Instant,
    /// Per replica: milliseconds since `origin` until which it is avoided.
    down_until: Vec<AtomicU64>,
    pub hold: Duration,
}

impl Health {
    pub fn new(replicas: usize, hold: Duration) -> Self {
        Health {
            origin: Instant::now(),
            down_until: (0..replicas.max(1)).map(|_| AtomicU64::new(0)).collect(),
            hold,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn mark_down(&self, replica: usize) {
        if let Some(d) = self.down_until.get(replica) {
            let until = self.now_ms() + u64::try_from(self.hold.as_millis()).unwrap_or(0);
            d.fetch_max(until, Ordering::Relaxed);
        }
    }

    fn is_up(&self, replica: usize) -> bool {
        self.down_until
            .get(replica)
            .is_some_and(|d| d.load(Ordering::Relaxed) <= self.now_ms())
    }

    /// The replicas for node `i`'s attempt number `attempt` (0 first): its home pair
    /// while all are up; otherwise the next replicas in turn that are up (all of them
    /// if none is), each retry starting one further on.
    pub fn route(&self, i: usize, attempt: usize) -> (usize, usize) {
        let n = self.down_until.len();
        let up: Vec<usize> = (0..n).filter(|r| self.is_up(*r)).collect();
        let up = if up.is_empty() { (0..n).collect() } else { up };
        if up.len() == n && attempt == 0 {
            return home_pair(i, n);
        }
        let k = (i + attempt) % up.len();
        (up[k], up[(k + 1) % up.len()])
    }
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

    /// Every sample so far.
    pub fn all(&self) -> Vec<Sample> {
        self.samples
            .lock()
            .map_or_else(|_| Vec::new(), |v| v.clone())
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
pub struct Shared {
    pub targets: Vec<Target>,
    pub fleet: Arc<FleetImage>,
    pub plan: Arc<Plan>,
    pub rec: Arc<Recorder>,
    pub health: Health,
    /// Attempts per attestation, the first included.
    pub max_attempts: usize,
}

pub async fn run(nodes: Vec<SimNode>, shared: Arc<Shared>) {
    let mut set = tokio::task::JoinSet::new();
    let count = nodes.len().max(1);
    for (i, node) in nodes.into_iter().enumerate() {
        set.spawn(node_loop(i, count, node, shared.clone()));
    }
    while set.join_next().await.is_some() {}
}

/// One attestation, retried at once on other replicas after a connection failure, a
/// timeout or a 5xx answer.
async fn attest_with_retries(i: usize, node: &mut SimNode, sh: &Shared) -> Sample {
    let scheduled = Instant::now();
    let mut retried = Vec::new();
    let mut attempt = 0;
    loop {
        let (chal, evid) = sh.health.route(i, attempt);
        let r = match tokio::time::timeout(
            sh.plan.timeout,
            node.attest(&sh.targets, &sh.fleet, chal, evid),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => {
                node.drop_connection(chal);
                node.drop_connection(evid);
                Err(AttemptError {
                    failure: Failure::Transport("timeout"),
                    replica: evid,
                })
            }
        };
        let completed = Instant::now();
        let mut sample = Sample {
            node: i,
            scheduled,
            completed,
            latency: Duration::ZERO,
            outcome: Ok(()),
            report_id: None,
            replicas: (chal, evid),
            retried: Vec::new(),
        };
        match r {
            Ok(v) => {
                if !v.trusted {
                    sample.outcome = Err(Failure::Untrusted);
                }
                sample.report_id = Some(v.report_id);
            }
            Err(e) => {
                if e.failure.replica_down() {
                    sh.health.mark_down(e.replica);
                }
                attempt += 1;
                if e.failure.retryable() && attempt < sh.max_attempts {
                    retried.push(e);
                    continue;
                }
                sample.outcome = Err(e.failure);
            }
        }
        sample.retried = retried;
        return sample;
    }
}

async fn node_loop(i: usize, count: usize, mut node: SimNode, sh: Arc<Shared>) {
    let plan = &sh.plan;
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
        let mut sample = attest_with_retries(i, &mut node, &sh).await;
        sample.scheduled = next;
        sample.latency = sample.completed.saturating_duration_since(next);
        sh.rec.push(sample);
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
    fn routes_cross_replicas_and_avoid_a_down_one() {
        let h = Health::new(2, Duration::from_secs(60));
        assert_eq!(h.route(0, 0), (0, 1));
        assert_eq!(h.route(1, 0), (1, 0));
        assert_ne!(h.route(0, 1), h.route(0, 0));
        h.mark_down(1);
        for i in 0..4 {
            for a in 0..3 {
                assert_eq!(h.route(i, a), (0, 0));
            }
        }
        let h = Health::new(3, Duration::from_secs(60));
        assert_eq!(h.route(2, 0), (2, 0));
        h.mark_down(0);
        for i in 0..6 {
            let (c, e) = h.route(i, 0);
            assert!(c != 0 && e != 0 && c != e);
        }
        h.mark_down(1);
        h.mark_down(2);
        // None up: try them all.
        let (c, e) = h.route(0, 0);
        assert!(c < 3 && e < 3);
    }

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
