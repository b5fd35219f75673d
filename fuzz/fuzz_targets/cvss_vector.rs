//! CVSS vectors from advisories (OSV `severity`, distribution trackers): any string parses
//! or fails cleanly, and every score is between 0.0 and 10.0.
#![no_main]

use ironroot_cvss::Cvss;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = Cvss::parse(text) {
        for s in [c.base_score(), c.score()] {
            let v: f64 = s.to_string().parse().expect("a score prints as a number");
            assert!((0.0..=10.0).contains(&v), "{text}: {v}");
        }
    }
});
