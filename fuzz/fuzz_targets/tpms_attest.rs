//! TPMS_ATTEST as a node sends it in a quote or a certification.
#![no_main]

use ironroot_tpm_wire::Attest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(attest) = Attest::parse(data) {
        // The accessor matches on the parsed variant; it must agree with what was parsed.
        let _ = attest.attest_type();
    }
});
