//! CPU time and memory of a process, from `/proc/<pid>/stat` and `/proc/<pid>/status`.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct ProcSample {
    at: Instant,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

/// Reads `pid`'s counters ("self" for this process).
pub fn sample(pid: &str) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcSample {
        at: Instant::now(),
        cpu_ticks: cpu_ticks(&stat)?,
        rss_kib: status_kib(&status, "VmRSS:")?,
        hwm_kib: status_kib(&status, "VmHWM:")?,
    })
}

/// utime (field 14) + stime (field 15); fields are counted after the `(comm)`, which
/// may itself contain spaces.
fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU used between two samples, in percent of one core.
pub fn cpu_percent(a: &ProcSample, b: &ProcSample, ticks_per_sec: f64) -> f64 {
    let wall = b.at.saturating_duration_since(a.at).as_secs_f64();
    let cpu = b.cpu_ticks.saturating_sub(a.cpu_ticks) as f64 / ticks_per_sec;
    if wall > 0.0 {
        100.0 * cpu / wall
    } else {
        0.0
    }
}

/// The kernel's clock tick rate (`getconf CLK_TCK`), 100 when it cannot be read.
pub fn ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_whose_name_has_spaces() {
        let stat =
            "1234 (iron root) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 5 1000 200";
        assert_eq!(cpu_ticks(stat), Some(325));
    }

    #[test]
    fn reads_this_process() {
        let s = sample("self").unwrap();
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib);
    }
}
