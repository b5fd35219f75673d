//! TPMT_SIGNATURE over a quote or a certification.
#![no_main]

use ironroot_tpm_wire::Signature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = Signature::parse(data) {
        let _ = sig.sig_alg();
        let _ = sig.hash();
        let _ = sig.marshal();
    }
});
