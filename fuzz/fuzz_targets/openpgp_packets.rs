//! OpenPGP keyrings and signed messages (containers simple signing), binary or armored.
#![no_main]

use ironroot_signing::openpgp::{verify_message, Keyring};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ring) = Keyring::parse(data) {
        assert!(!ring.keys.is_empty());
        // A keyring that parses must not make verification of arbitrary bytes panic.
        let _ = verify_message(data, &ring);
    }
    let _ = verify_message(data, &Keyring::default());
});
