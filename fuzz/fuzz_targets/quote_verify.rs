//! Quote (and certify) verification on attacker-chosen AK, TPMS_ATTEST and signature.
//!
//! Input layout, so that seeds can be real swtpm quotes: a big-endian u16 length of the
//! TPM2B_PUBLIC of the AK, the AK, a big-endian u16 length of the TPMS_ATTEST, the
//! attest, and the TPMT_SIGNATURE as the rest. The nonce never matches, so nothing may
//! verify; what is checked is that no key, attest or signature makes the checks panic.
#![no_main]

use ironroot_tpm_wire::{verify_certify, verify_quote, PcrValues, TpmPublic};
use libfuzzer_sys::fuzz_target;

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return None;
    }
    let (field, rest) = rest.split_at(len);
    *data = rest;
    Some(field)
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    let (Some(ak), Some(attest)) = (take(&mut rest), take(&mut rest)) else {
        return;
    };
    let sig = rest;
    let Ok(ak) = TpmPublic::parse(ak) else {
        return;
    };
    let quote = verify_quote(&ak, None, attest, sig, b"nonce", &PcrValues::default());
    assert!(quote.is_err(), "a quote verified against the wrong nonce");
    let certify = verify_certify(&ak, attest, sig, b"nonce", &ak);
    assert!(
        certify.is_err(),
        "a certification verified against the wrong nonce"
    );
});
