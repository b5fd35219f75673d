//! Package versions as an image's package database states them: parsing and comparison
//! must never panic, and any two versions that parse must compare antisymmetrically
//! (a < b exactly when b > a) and each equal to itself; apk's fuzzy match of a version
//! against itself is equal whenever the version parses.
#![no_main]

use ironroot_vercmp::{compare, Ecosystem};
use libfuzzer_sys::fuzz_target;

/// Lines of the input taken as versions; a few keep the pairwise check cheap.
const MAX_VERSIONS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let versions: Vec<&str> = text.split('\n').take(MAX_VERSIONS).collect();
    for a in &versions {
        for b in &versions {
            let fuzzy = ironroot_vercmp::apk::fuzzy_cmp(a, b);
            if a == b && compare(Ecosystem::Apk, a, a).is_ok() {
                assert_eq!(fuzzy, Ok(std::cmp::Ordering::Equal), "{a:?} ~ itself");
            }
        }
    }
    for eco in [Ecosystem::Dpkg, Ecosystem::Rpm, Ecosystem::Apk] {
        for a in &versions {
            if let Ok(same) = compare(eco, a, a) {
                assert_eq!(same, std::cmp::Ordering::Equal, "{eco}: {a:?} vs itself");
            }
            for b in &versions {
                if let (Ok(ab), Ok(ba)) = (compare(eco, a, b), compare(eco, b, a)) {
                    assert_eq!(ab, ba.reverse(), "{eco}: {a:?} vs {b:?}");
                }
            }
        }
    }
});
