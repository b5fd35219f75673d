//! Child processes of the demo: each logs to its own file and is killed when the demo
//! ends, however it ends; and what they use, read from /proc.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Children {
    logs: PathBuf,
    procs: Vec<(String, Child)>,
}

impl Children {
    pub fn new(logs: PathBuf) -> Self {
        Children {
            logs,
            procs: Vec::new(),
        }
    }

    pub fn spawn(&mut self, name: &str, exe: &Path, args: &[String]) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.logs.join(format!("{name}.log")))?;
        let child = Command::new(exe)
            .args(args)
            .env("IRONROOT_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.procs.push((name.to_owned(), child));
        Ok(())
    }

    pub fn pids(&self) -> Vec<(String, u32)> {
        self.procs
            .iter()
            .map(|(n, c)| (n.clone(), c.id()))
            .collect()
    }

    pub fn stop_all(&mut self) {
        for (_, c) in self.procs.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.procs.clear();
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Prints each child's resident memory and its CPU use since `before` (over `over`).
pub fn print_usage(children: &Children, before: &[(String, Option<u64>)], over: Duration) {
    for (name, pid) in children.pids() {
        let Some(kb) = rss_kib(pid) else {
            continue;
        };
        let cpu = before
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, b)| Some(cpu_ms(pid)?.saturating_sub((*b)?)))
            .map(|ms| {
                format!(
                    "{:.2}% of a core",
                    ms as f64 / over.as_millis().max(1) as f64 * 100.0
                )
            })
            .unwrap_or_else(|| "-".into());
        let what = if name.starts_with("node-") {
            "agent"
        } else {
            "process"
        };
        println!(
            "    {what} {name}: resident memory {:.1} MiB, CPU {cpu}",
            kb as f64 / 1024.0
        );
    }
}

/// Resident memory of a process in KiB, from /proc.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) a process has used, in milliseconds, from /proc.
pub fn cpu_ms(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks; USER_HZ is 100 on every architecture Linux supports here.
    Some((utime + stime) * 10)
}
