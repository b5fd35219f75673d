//! What one measured step gives: rates, latency percentiles, errors by kind, and the
//! service's CPU and memory.

use crate::runner::Sample;
use std::collections::BTreeMap;
use std::time::Duration;

pub struct StepReport {
    pub target_rate: f64,
    pub achieved_rate: f64,
    pub ok: usize,
    pub errors: BTreeMap<String, usize>,
    /// Attestations that needed more than one attempt, and their failed attempts by
    /// replica and kind.
    pub retried: usize,
    pub retry_failures: BTreeMap<String, usize>,
    /// Verdicts answered, by the replica that took the evidence.
    pub answered_by: BTreeMap<usize, usize>,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub server_cpu: Option<f64>,
    pub server_rss_mib: Option<f64>,
    pub server_hwm_mib: Option<f64>,
    pub loadgen_cpu: Option<f64>,
}

/// Latencies of every attestation scheduled in the window (failures included: a failed
/// attestation took that long too); the achieved rate counts trusted verdicts that
/// completed within the window.
pub fn summarise(
    samples: &[Sample],
    window: (std::time::Instant, std::time::Instant),
    target_rate: f64,
) -> StepReport {
    let mut lat: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    lat.sort_unstable();
    let mut errors = BTreeMap::new();
    let mut retry_failures = BTreeMap::new();
    let mut answered_by = BTreeMap::new();
    for s in samples {
        if let Err(e) = &s.outcome {
            *errors.entry(e.to_string()).or_insert(0) += 1;
        }
        for a in &s.retried {
            *retry_failures
                .entry(format!("replica {}: {}", a.replica, a.failure))
                .or_insert(0) += 1;
        }
        if s.report_id.is_some() {
            *answered_by.entry(s.replicas.1).or_insert(0) += 1;
        }
    }
    let secs = window.1.saturating_duration_since(window.0).as_secs_f64();
    let done_in_window = samples
        .iter()
        .filter(|s| s.outcome.is_ok() && s.completed < window.1)
        .count();
    StepReport {
        target_rate,
        achieved_rate: if secs > 0.0 {
            done_in_window as f64 / secs
        } else {
            0.0
        },
        ok: samples.iter().filter(|s| s.outcome.is_ok()).count(),
        errors,
        retried: samples.iter().filter(|s| !s.retried.is_empty()).count(),
        retry_failures,
        answered_by,
        p50: percentile(&lat, 0.50),
        p90: percentile(&lat, 0.90),
        p99: percentile(&lat, 0.99),
        max: lat.last().copied().unwrap_or_default(),
        server_cpu: None,
        server_rss_mib: None,
        server_hwm_mib: None,
        loadgen_cpu: None,
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

pub const HEADER: &str = "target/s  achieved/s      ok  errors   p50 ms   p90 ms   p99 ms   max ms  server CPU%  server RSS MiB  loadgen CPU%";

fn opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.prec$}"))
}

impl StepReport {
    pub fn row(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{:>8.0}  {:>10.0}  {:>6}  {:>6}  {:>7.1}  {:>7.1}  {:>7.1}  {:>7.1}  {:>11}  {:>14}  {:>12}",
            self.target_rate,
            self.achieved_rate,
            self.ok,
            self.errors.values().sum::<usize>(),
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max),
            opt(self.server_cpu, 0),
            opt(self.server_rss_mib, 1),
            opt(self.loadgen_cpu, 0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
        assert_eq!(percentile(&v[..1], 0.99), Duration::from_millis(1));
    }
}
