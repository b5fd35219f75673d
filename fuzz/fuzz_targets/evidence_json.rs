//! The agent's JSON bodies to the service: enrollment and evidence.
#![no_main]

use ironroot_api::{EnrollRequest, EvidenceRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<EvidenceRequest>(data);
    let _ = serde_json::from_slice::<EnrollRequest>(data);
});
