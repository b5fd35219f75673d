//! Simple-signing payload JSON (cosign and containers/image), cosign key files, and DSSE
//! envelopes (cosign attestations).
#![no_main]

use ironroot_signing::cosign::CosignPublicKey;
use ironroot_signing::{PayloadType, SimpleSigningPayload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for t in [PayloadType::Cosign, PayloadType::Atomic] {
        if let Ok(p) = SimpleSigningPayload::parse(data, t) {
            // Whatever parses must re-serialize and parse back to the same claims.
            let again = SimpleSigningPayload::parse(&p.to_json().unwrap(), t).unwrap();
            assert_eq!(again.manifest_digest, p.manifest_digest);
            assert_eq!(again.docker_reference, p.docker_reference);
        }
    }
    let _ = CosignPublicKey::from_pem(data);
    if let Ok(e) = ironroot_signing::dsse::Envelope::parse(data) {
        assert!(!e.signatures.is_empty());
    }
});
