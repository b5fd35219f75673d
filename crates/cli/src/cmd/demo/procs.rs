//! Child processes of the demo: each logs to its own file and is killed when the demo
//! ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
