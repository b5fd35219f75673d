//! `ironroot-policy-bench`: the cost of one admission decision with the whole R10 set
//! (every built-in and one Rego policy, `policies/r10.yaml`), in process, against an empty
//! policy set measured in the same run. Prints p50/p99/max of each and the p99 ratio; the
//! goal is a p99 under 1 ms.

use ironroot_policy::{example, Input, PolicySet};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const WARMUP: usize = 500;
const ROUNDS: usize = 20_000;
const NOW: u64 = 1_800_000_000;

fn measure(set: &PolicySet, input: &Input) -> Vec<Duration> {
    for _ in 0..WARMUP {
        std::hint::black_box(set.evaluate(input, NOW));
    }
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(set.evaluate(std::hint::black_box(input), NOW));
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn at(times: &[Duration], q: f64) -> Duration {
    times[((times.len() - 1) as f64 * q) as usize]
}

fn main() -> ExitCode {
    let set = match PolicySet::from_yaml(example::R10_SET_YAML.as_bytes()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("policies/r10.yaml: {e}");
            return ExitCode::FAILURE;
        }
    };
    let empty = PolicySet::empty(1);
    let (pod, facts) = (example::pod(), example::facts(NOW));
    let input = Input {
        pod: &pod,
        namespace: "apps",
        cluster: "eu-1",
        facts: &facts,
    };
    if !set.evaluate(&input, NOW).allowed {
        eprintln!("the example pod should pass the R10 set");
        return ExitCode::FAILURE;
    }
    let base = measure(&empty, &input);
    let full = measure(&set, &input);
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("one admission decision, in process, {ROUNDS} rounds after {WARMUP} warm-up");
    for (name, t) in [
        ("empty set (baseline)", &base),
        (
            &*format!("R10 set ({} policies)", set.policies().len()),
            &full,
        ),
    ] {
        println!(
            "  {name:<24} p50 {:>9.2} us  p99 {:>9.2} us  max {:>9.2} us",
            us(at(t, 0.5)),
            us(at(t, 0.99)),
            us(at(t, 1.0))
        );
    }
    let p99 = at(&full, 0.99);
    println!(
        "  p99 ratio R10/empty: {:.0}x",
        us(p99) / us(at(&base, 0.99)).max(0.001)
    );
    println!(
        "  goal p99 < 1 ms: {}",
        if p99 < Duration::from_millis(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    ExitCode::SUCCESS
}
