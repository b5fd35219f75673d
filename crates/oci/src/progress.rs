//! How long-running work reports each layer. The library never prints: the CLI shows a
//! line per layer on a terminal, a service may log or ignore it.

use std::time::Duration;

/// Told about each layer as it is done.
pub trait LayerProgress {
    /// `label` names the layer, `verb` what was done with it (`scanned`, `encrypted`).
    fn layer(&self, label: &str, verb: &str, bytes: u64, elapsed: Duration);
    /// A line about something that was not done (a layer kept as it was).
    fn note(&self, line: &str);
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl LayerProgress for Silent {
    fn layer(&self, _: &str, _: &str, _: u64, _: Duration) {}
    fn note(&self, _: &str) {}
}
