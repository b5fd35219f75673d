//! apk installed database (`lib/apk/db/installed`) from an image layer.
#![no_main]

use ironroot_pkgdb::{parse_apk_installed, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(packages) = parse_apk_installed(data, &limits) {
        assert!(packages.len() <= limits.max_packages);
        assert!(packages
            .iter()
            .all(|p| !p.name.is_empty() && !p.version.is_empty()));
    }
});
