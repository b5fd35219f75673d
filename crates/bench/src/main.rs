//! `cargo run --release -p ironroot-bench`: the cost of verifying one attestation (a quote,
//! a ~100-event boot log and a ~1,000-entry IMA list, matched against flavors) on one
//! core, as a ratio to the bare RSA-2048 signature check measured in the same run.

mod host;
mod measure;
mod scenario;

use measure::Case;
use std::process::ExitCode;
use std::time::Duration;

const ROUNDS: usize = 10;
const SLICE: Duration = Duration::from_millis(200);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ironroot-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let s = scenario::Scenario::build().map_err(|e| e.to_string())?;
    s.check()?;
    println!(
        "host: {} boot events ({} bytes), {} IMA entries ({} bytes, ASCII), quote of sha256 PCRs 0-10, RSA-2048 AK",
        s.boot_events(),
        s.boot_bytes.len(),
        s.ima_entries(),
        s.ima_bytes.len()
    );
    println!(
        "single thread, {ROUNDS} interleaved rounds of {} ms per case, median of rounds\n",
        SLICE.as_millis()
    );
    let mut cases: Vec<Case<'_>> = s.cases();
    let ns = measure::run(&mut cases, ROUNDS, SLICE)?;
    let base = ns.first().copied().unwrap_or(f64::NAN);
    println!(
        "{:<58} {:>10} {:>12} {:>8}",
        "case", "µs/op", "ops/s/core", "x (a)"
    );
    for (case, t) in cases.iter().zip(&ns) {
        println!(
            "{:<58} {:>10.1} {:>12.0} {:>8.2}",
            case.name,
            t / 1e3,
            1e9 / t,
            t / base
        );
    }
    Ok(())
}
