//! OSV records and Debian security tracker documents from a feed mirror: both parsers, and
//! loading into a database and matching an empty inventory, must never panic.
#![no_main]

use ironroot_vulndb::{parse_debian_tracker, parse_osv, Database, Distro, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(record) = parse_osv(data, &limits) {
        assert!(record.affected.len() <= limits.max_affected);
        let mut db = Database::new();
        db.add_osv(record);
        let distro = Distro {
            id: "debian".into(),
            version_id: "12".into(),
        };
        let _ = db.match_inventory(&distro, &[]);
    }
    if let Ok(issues) = parse_debian_tracker(data, &limits) {
        assert!(issues.len() <= limits.max_tracker_issues);
        let mut db = Database::new();
        db.add_debian_tracker(issues);
    }
});
