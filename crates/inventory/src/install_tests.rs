#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::database::load;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vulndb/tests/fixtures");

fn record(id: &str, modified: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema_version": "1.7.0", "id": id, "modified": modified,
        "affected": [{"package": {"ecosystem": "Alpine:v3.20", "name": "xz"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.6.1-r2"}]}]}]
    }))
    .unwrap()
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ironroot-inventory-install-")
        .tempdir()
        .unwrap()
}

#[test]
fn feeds_from_a_directory_and_a_document_are_installed_together() {
    let tmp = scratch();
    let dir = tmp.path().join("db");
    let mut s = Staging::default();
    s.add(
        "https://feeds.example/a.json",
        Feed::Document(record("A-1", "2024-04-01T00:00:00Z")),
    )
    .unwrap();
    s.add(
        FIXTURES,
        Feed::Path(format!("{FIXTURES}/debian-tracker-excerpt.json").into()),
    )
    .unwrap();
    let meta = s.install(&dir, 1_800_000_000).unwrap();
    assert_eq!(meta.osv_records, 1);
    assert!(meta.tracker_issues > 0);
    assert_eq!(meta.built_at, 1_711_929_600);
    assert_eq!(meta.updated_at, 1_800_000_000);
    assert_eq!(meta.sources, ["https://feeds.example/a.json", FIXTURES]);
    assert_eq!(read_metadata(&dir).unwrap(), meta);
    load(&dir).unwrap();
    // A second update in the same second still moves the generation on.
    let mut again = Staging::default();
    again
        .add("b", Feed::Document(record("B-1", "2024-01-01T00:00:00Z")))
        .unwrap();
    assert_eq!(
        again.install(&dir, 1_800_000_000).unwrap().updated_at,
        1_800_000_001
    );
}

#[test]
fn a_directory_of_osv_records_is_read_whole() {
    let tmp = scratch();
    let feeds = tmp.path().join("feeds/nested");
    std::fs::create_dir_all(&feeds).unwrap();
    std::fs::write(feeds.join("a.json"), record("A-1", "2024-04-01T00:00:00Z")).unwrap();
    let array = format!(
        "[{}, {}]",
        String::from_utf8(record("B-1", "1700000000")).unwrap(),
        String::from_utf8(record("C-1", "2024-05-01T00:00:00Z")).unwrap()
    );
    std::fs::write(tmp.path().join("feeds/b.json"), array).unwrap();
    std::fs::write(tmp.path().join("feeds/notes.txt"), "not a feed").unwrap();
    let mut s = Staging::default();
    s.add("feeds", Feed::Path(tmp.path().join("feeds")))
        .unwrap();
    let meta = s.install(&tmp.path().join("db"), 1).unwrap();
    assert_eq!(meta.osv_records, 3);
    assert_eq!(meta.built_at, 1_714_521_600);
}

#[test]
fn what_is_not_a_feed_is_refused_and_the_old_database_stays() {
    let tmp = scratch();
    let dir = tmp.path().join("db");
    let mut s = Staging::default();
    s.add("a", Feed::Document(record("A-1", "2024-04-01T00:00:00Z")))
        .unwrap();
    let before = s.install(&dir, 100).unwrap();

    let mut s = Staging::default();
    let e = s
        .add("bad", Feed::Document(br#"[{"id": 1}]"#.to_vec()))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad: record 0: refused, the database was not changed"
    );
    let e = s
        .add("z", Feed::Document(b"PK\x03\x04rest".to_vec()))
        .unwrap_err();
    assert!(matches!(e, InstallError::Zip(_)), "{e}");
    let e = s.add("n", Feed::Document(b"{".to_vec())).unwrap_err();
    assert!(matches!(e, InstallError::NotJson(..)), "{e}");
    let e = s.add("s", Feed::Document(b"\"x\"".to_vec())).unwrap_err();
    assert!(matches!(e, InstallError::NotAFeed(_, None)), "{e}");
    let e = s
        .add("o", Feed::Document(b"{\"x\": 1}".to_vec()))
        .unwrap_err();
    assert!(matches!(e, InstallError::NotAFeed(_, Some(_))), "{e}");
    let e = s
        .add("missing", Feed::Path(tmp.path().join("nope")))
        .unwrap_err();
    assert!(e.to_string().ends_with("/nope"), "{e}");
    let e = s.install(&dir, 200).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no OSV record or Debian tracker export found in "
    );
    assert_eq!(read_metadata(&dir).unwrap(), before);
}

#[test]
fn a_second_tracker_export_is_refused() {
    let tracker = std::fs::read(format!("{FIXTURES}/debian-tracker-excerpt.json")).unwrap();
    let mut s = Staging::default();
    s.add("t1", Feed::Document(tracker.clone())).unwrap();
    let e = s.add("t2", Feed::Document(tracker)).unwrap_err();
    assert_eq!(e.to_string(), "t2: a second Debian tracker export");
}
