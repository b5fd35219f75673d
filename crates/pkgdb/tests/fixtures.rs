//! Every committed fixture parses to what the package manager's own tools say it holds
//! (the `*.expected` files written by fixtures/make-fixtures.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ironroot_pkgdb::{
    parse_apk_installed, parse_dpkg_status, parse_dpkg_status_d, parse_rpm_header, Ecosystem,
    Limits, Package,
};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `name version source source_version arch` per package, source fields filled in as dpkg-query
/// (`${source:Package}`, `${source:Version}`) fills them.
fn summary(packages: &[Package]) -> String {
    packages
        .iter()
        .map(|p| {
            format!(
                "{}\t{}\t{}\t{}\t{}\n",
                p.name,
                p.version,
                p.source_name_or_name(),
                p.source_version_or_version(),
                p.arch.as_deref().unwrap_or("")
            )
        })
        .collect()
}

fn expected(path: &str) -> String {
    String::from_utf8(read(path)).unwrap()
}

#[test]
fn dpkg_status_of_the_build_host_matches_dpkg_query() {
    let packages = parse_dpkg_status(&read("dpkg/host.status"), &Limits::default()).unwrap();
    assert_eq!(packages.len(), 30);
    assert!(packages.iter().all(|p| p.ecosystem == Ecosystem::Dpkg));
    assert_eq!(summary(&packages), expected("dpkg/host.expected"));
}

#[test]
fn dpkg_status_of_trixie_rootfs_matches_dpkg_query() {
    let packages = parse_dpkg_status(&read("dpkg/trixie.status"), &Limits::default()).unwrap();
    assert_eq!(summary(&packages), expected("dpkg/trixie.expected"));
    // The trimmed copy keeps stanzas whose Source names a different source version.
    assert!(packages.iter().any(|p| p.source_version.is_some()));
}

#[test]
fn dpkg_status_with_crlf_line_ends_parses_the_same() {
    let lf = read("dpkg/host.status");
    let crlf = String::from_utf8(lf.clone()).unwrap().replace('\n', "\r\n");
    let limits = Limits::default();
    assert_eq!(
        parse_dpkg_status(crlf.as_bytes(), &limits).unwrap(),
        parse_dpkg_status(&lf, &limits).unwrap()
    );
}

#[test]
fn distroless_status_d_files_match_dpkg_deb_and_dpkg_query() {
    let packages: Vec<Package> = ["dpkg/status.d/base-files", "dpkg/status.d/libc6"]
        .iter()
        .map(|path| {
            parse_dpkg_status_d(&read(path), &Limits::default())
                .unwrap()
                .expect("installed")
        })
        .collect();
    assert_eq!(summary(&packages), expected("dpkg/status.d.expected"));
}

#[test]
fn apk_installed_db_matches_its_listing() {
    let packages = parse_apk_installed(&read("apk/installed"), &Limits::default()).unwrap();
    assert!(packages.iter().all(|p| p.ecosystem == Ecosystem::Apk));
    assert_eq!(summary(&packages), expected("apk/installed.expected"));
}

/// The blobs read out of rpmdb.sqlite give what `rpm -qa` printed for that database.
#[test]
fn rpm_header_blobs_match_rpm_qa() {
    let dir = fixture("rpm/blobs");
    let mut lines: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| {
            let blob = std::fs::read(entry.unwrap().path()).unwrap();
            let p = parse_rpm_header(&blob, &Limits::default()).unwrap();
            assert_eq!(p.ecosystem, Ecosystem::Rpm);
            let (epoch, vr) = match p.version.split_once(':') {
                Some((epoch, vr)) => (epoch.to_owned(), vr.to_owned()),
                None => ("(none)".to_owned(), p.version.clone()),
            };
            let (version, release) = vr.rsplit_once('-').unwrap();
            let source_vr = p.source_version.as_deref().unwrap();
            let source_vr = source_vr.split_once(':').map_or(source_vr, |(_, vr)| vr);
            format!(
                "{}\t{epoch}\t{version}\t{release}\t{}\t{}-{source_vr}.src.rpm",
                p.name,
                p.arch.as_deref().unwrap(),
                p.source_name.as_deref().unwrap()
            )
        })
        .collect();
    lines.sort();
    assert_eq!(lines.len(), 4);
    let expected: Vec<String> = expected("rpm/expected.txt")
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines, expected);
}
