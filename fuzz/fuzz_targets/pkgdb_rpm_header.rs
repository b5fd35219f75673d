//! One rpm header blob as stored in an image's rpmdb (e.g. `Packages.blob` of rpmdb.sqlite).
#![no_main]

use ironroot_pkgdb::{parse_rpm_header, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(package) = parse_rpm_header(data, &Limits::default()) {
        assert!(!package.name.is_empty());
    }
});
