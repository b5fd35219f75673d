//! Secrets and malware in layer files (`ironroot-contentscan`), scanned on a worker thread
//! while the layers keep streaming: the scan's main thread decompresses, the worker runs
//! the keyword prefilter, the regexes and yara-x. The queue is bounded by bytes (at most
//! 32 MiB in flight, or one file larger than that), which keeps memory flat whatever the
//! size of the layers while letting thousands of small files queue up behind a large one,
//! so neither thread waits on the other's unevenness.

use anyhow::Context;
use ironroot_contentscan::{Category, Config, RulesSource, Scanner};
use ironroot_scanner::checks::{ContentCategory, ContentMatch};
use ironroot_scanner::CheckFinding;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

/// Bytes of file content queued for the worker at most (a larger file goes alone).
const MAX_IN_FLIGHT: usize = 32 << 20;
/// Files queued at most (small files: their names and buffers).
const MAX_QUEUED_FILES: usize = 4096;

/// Bytes handed to the worker and not yet scanned, and whether the worker has stopped
/// (then nobody waits for room: the send fails and finish() reports the stop).
#[derive(Default)]
struct InFlight {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl InFlight {
    /// Waits until `n` more bytes fit (always when nothing is in flight).
    fn reserve(&self, n: usize) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        while !st.1 && st.0 > 0 && st.0 + n > MAX_IN_FLIGHT {
            st = match self.changed.wait(st) {
                Ok(st) => st,
                Err(_) => return,
            };
        }
        st.0 += n;
    }

    fn release(&self, n: usize) {
        if let Ok(mut st) = self.state.lock() {
            st.0 = st.0.saturating_sub(n);
            self.changed.notify_one();
        }
    }
}

/// Marks the worker stopped when it ends, by returning or by panicking.
struct Stopped(Arc<InFlight>);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Ok(mut st) = self.0.state.lock() {
            st.1 = true;
        }
        self.0.changed.notify_all();
    }
}

pub struct ContentChecks {
    scanner: Arc<Scanner>,
    queue: Option<SyncSender<(usize, String, Vec<u8>)>>,
    in_flight: Arc<InFlight>,
    worker: Option<JoinHandle<Vec<CheckFinding>>>,
}

/// Compiles the built-in rules and the user's (`--secret-rules`, `--yara-rules` files).
pub fn compile(secret_rules: &[PathBuf], yara_rules: &[PathBuf]) -> anyhow::Result<Scanner> {
    let read = |p: &PathBuf| -> anyhow::Result<RulesSource> {
        let text = std::fs::read_to_string(p).with_context(|| format!("{}", p.display()))?;
        Ok(RulesSource::new(p.display().to_string(), text))
    };
    let mut config = Config::default();
    config.secret_rules = secret_rules
        .iter()
        .map(read)
        .collect::<anyhow::Result<_>>()?;
    config.yara_sources = yara_rules.iter().map(read).collect::<anyhow::Result<_>>()?;
    Ok(Scanner::new(config)?)
}

impl ContentChecks {
    pub fn start(scanner: Scanner) -> anyhow::Result<ContentChecks> {
        let scanner = Arc::new(scanner);
        let (tx, rx) = sync_channel::<(usize, String, Vec<u8>)>(MAX_QUEUED_FILES);
        let shared = scanner.clone();
        let in_flight = Arc::new(InFlight::default());
        let drained = in_flight.clone();
        let worker = std::thread::Builder::new()
            .name("content-scan".into())
            .spawn(move || {
                let _stopped = Stopped(drained.clone());
                let mut session = shared.session();
                let mut out = Vec::new();
                for (layer, path, data) in rx {
                    out.extend(
                        session
                            .scan(&path, &data)
                            .into_iter()
                            .map(|f| finding(f, layer)),
                    );
                    drained.release(data.len());
                }
                out
            })
            .context("starting the content scanner")?;
        Ok(ContentChecks {
            scanner,
            queue: Some(tx),
            in_flight,
            worker: Some(worker),
        })
    }

    pub fn wants(&self, path: &str, size: u64) -> bool {
        self.scanner.wants(path, size)
    }

    pub fn send(&mut self, layer: usize, path: &str, data: Vec<u8>) {
        if let Some(q) = &self.queue {
            self.in_flight.reserve(data.len());
            if q.send((layer, path.to_owned(), data)).is_err() {
                // The worker is gone: finish() reports it; nothing more can be scanned.
                self.queue = None;
            }
        }
    }

    /// Waits for the worker and returns its findings. A worker that died fails the scan:
    /// an image is never called clean because its scanner stopped.
    pub fn finish(mut self) -> anyhow::Result<Vec<CheckFinding>> {
        self.queue.take();
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(found)) => Ok(found),
            _ => anyhow::bail!(
                "the secret and malware scanner stopped; the image was not fully scanned"
            ),
        }
    }
}

/// A match as the report's finding (what it means is `ironroot_scanner::checks`' call).
fn finding(f: ironroot_contentscan::Finding, layer: usize) -> CheckFinding {
    ContentMatch {
        rule_id: f.rule_id,
        category: match f.category {
            Category::Malware => ContentCategory::Malware,
            _ => ContentCategory::Secret,
        },
        severity: f.severity,
        title: f.title,
        path: f.path,
        layer,
        line: f.line,
        redacted: f.redacted,
    }
    .into()
}
