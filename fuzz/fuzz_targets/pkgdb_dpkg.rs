//! dpkg status file, and the same bytes as a distroless status.d file, from an image layer.
#![no_main]

use ironroot_pkgdb::{parse_dpkg_status, parse_dpkg_status_d, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(packages) = parse_dpkg_status(data, &limits) {
        assert!(packages.len() <= limits.max_packages);
        assert!(packages
            .iter()
            .all(|p| !p.name.is_empty() && !p.version.is_empty()));
    }
    let _ = parse_dpkg_status_d(data, &limits);
});
