//! Interleaved timing: every case runs a short slice in each round, so drift (frequency
//! scaling, a noisy neighbour) hits all cases alike; the figure is the median of rounds.

use std::time::{Duration, Instant};

/// Operations done and the time they took (set-up a case must redo between batches is
/// left out of `elapsed`).
pub struct Batch {
    pub ops: u32,
    pub elapsed: Duration,
}

pub type Run<'a> = Box<dyn FnMut() -> Result<Batch, String> + 'a>;

pub struct Case<'a> {
    pub name: &'static str,
    pub run: Run<'a>,
}

/// Times `f` over `ops` calls.
pub fn timed(ops: u32, mut f: impl FnMut() -> Result<(), String>) -> Result<Batch, String> {
    let start = Instant::now();
    for _ in 0..ops {
        f()?;
    }
    Ok(Batch {
        ops,
        elapsed: start.elapsed(),
    })
}

/// Nanoseconds per operation of each case: the median over `rounds` rounds, each giving
/// every case `slice` of wall time.
pub fn run(cases: &mut [Case<'_>], rounds: usize, slice: Duration) -> Result<Vec<f64>, String> {
    let mut per_round: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    for case in cases.iter_mut() {
        (case.run)()?; // warm caches and the allocator
    }
    for _ in 0..rounds {
        for (case, samples) in cases.iter_mut().zip(per_round.iter_mut()) {
            let (mut ops, mut busy) = (0u64, Duration::ZERO);
            let start = Instant::now();
            while start.elapsed() < slice {
                let b = (case.run)()?;
                ops += u64::from(b.ops);
                busy += b.elapsed;
            }
            samples.push(busy.as_secs_f64() * 1e9 / ops.max(1) as f64);
        }
    }
    Ok(per_round.into_iter().map(median).collect())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
