//! TPM2B_PUBLIC of an EK or AK as an agent presents it at enrollment.
#![no_main]

use ironroot_tpm_wire::TpmPublic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(public) = TpmPublic::parse(data) {
        // Everything the service derives from a parsed key, including turning its
        // unique field into a crypto key, must be total too.
        let _ = public.name();
        let _ = public.rsa_key();
        let _ = public.ecc_key();
        let _ = public.scheme();
        let _ = public.symmetric();
        let _ = public.is_restricted_signing_key();
        let _ = public.is_restricted_decryption_key();
        let _ = public.to_tpm2b();
    }
});
