//! An image layer from a registry: gzip, zstd or plain tar, any bytes at all. Walking it
//! must end in entries or an error, within small limits, never a panic or a hang.
#![no_main]

use ironroot_layers::{walk_layer, Entry, Finding, Limits, Overlay, Visitor};
use libfuzzer_sys::fuzz_target;
use std::io::Read;

struct V(Overlay);

impl Visitor for V {
    fn entry(&mut self, _layer: usize, e: &Entry) -> bool {
        self.0.apply(e);
        assert!(!e.path.starts_with('/') && !e.path.split('/').any(|s| s == ".."));
        true
    }
    fn content(&mut self, _l: usize, _e: &Entry, data: &mut dyn Read) -> std::io::Result<()> {
        std::io::copy(data, &mut std::io::sink()).map(|_| ())
    }
    fn finding(&mut self, _layer: usize, _f: Finding) {}
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_entries: 10_000,
        max_layer_bytes: 32 << 20,
        max_ratio: 100,
        ratio_grace: 1 << 20,
        max_path_len: 4096,
        max_file_bytes: 1 << 20,
    };
    let _ = walk_layer(0, data, &limits, &mut V(Overlay::new()));
});
