//! IMA measurement list from a node, in either the ASCII or the binary form.
#![no_main]

use ironroot_crypto::HashAlg;
use ironroot_evidence::ImaLog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = ImaLog::parse(data) {
        let _ = log.replay(&[HashAlg::Sha1, HashAlg::Sha256]);
        // Whatever parsed must be writable and read back the same.
        assert_eq!(
            ImaLog::parse(log.to_ascii().as_bytes()).ok(),
            Some(log.clone())
        );
        assert_eq!(ImaLog::parse(&log.to_binary()).ok(), Some(log));
    }
});
