//! A line per layer on a terminal; nothing when stderr is a file or a pipe (CI logs).

use std::io::IsTerminal;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    on: bool,
}

/// The library's layer reports, shown as [`Progress::layer`] and [`Progress::note`] do.
impl ironroot_oci::LayerProgress for Progress {
    fn layer(&self, label: &str, verb: &str, bytes: u64, elapsed: Duration) {
        Progress::layer(self, label, verb, bytes, elapsed);
    }

    fn note(&self, line: &str) {
        Progress::note(self, line);
    }
}

impl Progress {
    pub fn on_terminal() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
        }
    }

    pub fn off() -> Progress {
        Progress { on: false }
    }

    pub fn layer(&self, label: &str, verb: &str, bytes: u64, elapsed: Duration) {
        if self.on {
            eprintln!("{}", layer_line(label, verb, bytes, elapsed));
        }
    }

    pub fn note(&self, line: &str) {
        if self.on {
            eprintln!("{line}");
        }
    }
}

fn layer_line(label: &str, verb: &str, bytes: u64, elapsed: Duration) -> String {
    let mb = bytes as f64 / 1e6;
    let secs = elapsed.as_secs_f64().max(1e-6);
    format!(
        "{label}: {verb} {mb:.1} MB in {secs:.2} s ({:.1} MB/s)",
        mb / secs
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_line_gives_size_and_rate() {
        let l = layer_line(
            "layer 1/2 (sha256:ab)",
            "encrypted",
            50_000_000,
            Duration::from_secs(2),
        );
        assert_eq!(
            l,
            "layer 1/2 (sha256:ab): encrypted 50.0 MB in 2.00 s (25.0 MB/s)"
        );
    }
}
