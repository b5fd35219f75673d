//! TCG PC Client crypto-agile event log (binary_bios_measurements) from a node.
#![no_main]

use ironroot_evidence::EventLog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = EventLog::parse(data) {
        let _ = log.replay();
        // Reports describe every event, so describing must be total as well.
        for event in &log.events {
            let _ = event.description();
            let _ = event.startup_locality();
        }
    }
});
