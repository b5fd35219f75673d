//! Scans of layers built here with the `tar` crate: the inventory and each package's layer
//! of origin, whiteouts, digests checked while streaming, files shown to an inspector.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use ironroot_crypto::HashAlg;
use ironroot_scanner::{BlobDigest, Inspector, NoInspector, NoRpmSqlite, Scan, ScanError, Want};
use std::io::Write;

fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(if path.ends_with("su") { 0o4755 } else { 0o644 });
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *body).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

fn stanza(name: &str, version: &str) -> String {
    format!("Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n\n")
}

fn status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    pkgs.iter()
        .map(|(n, v)| stanza(n, v))
        .collect::<String>()
        .into_bytes()
}

fn scan_all(blobs: &[Vec<u8>]) -> ironroot_scanner::Collected {
    let mut inspector = NoInspector;
    let mut scan = Scan::new(Default::default(), &mut inspector, &NoRpmSqlite);
    for b in blobs {
        let d = BlobDigest::of(HashAlg::Sha256, b);
        scan.layer(Some(&d), b.as_slice()).unwrap();
    }
    scan.finish()
}

#[test]
fn each_package_keeps_the_layer_that_installed_or_changed_it() {
    let base = layer(&[
        (
            "var/lib/dpkg/status",
            &status(&[("libc6", "2.36-9"), ("zlib1g", "1:1.2.13.dfsg-1")]),
        ),
        (
            "etc/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        ),
    ]);
    let upgrade = layer(&[(
        "var/lib/dpkg/status",
        &status(&[
            ("libc6", "2.36-9"),
            ("zlib1g", "1:1.2.13.dfsg-1+deb12u1"),
            ("curl", "7.88.1-10"),
        ]),
    )]);
    let unrelated = layer(&[("srv/app", b"binary")]);
    let c = scan_all(&[base, upgrade, unrelated]);
    let got: Vec<(String, String, usize)> = c
        .packages
        .iter()
        .map(|p| (p.package.name.clone(), p.package.version.clone(), p.layer))
        .collect();
    assert_eq!(
        got,
        vec![
            ("libc6".into(), "2.36-9".into(), 0),
            ("zlib1g".into(), "1:1.2.13.dfsg-1+deb12u1".into(), 1),
            ("curl".into(), "7.88.1-10".into(), 1),
        ]
    );
    assert_eq!(c.os_release.unwrap().distro().version_id, "12");
    assert_eq!(c.layers.len(), 3);
    assert!(c.inventory_problems.is_empty());
}

#[test]
fn a_whiteout_removes_a_distroless_package() {
    let base = layer(&[
        (
            "var/lib/dpkg/status.d/base-files",
            stanza("base-files", "12.4+deb12u5").as_bytes(),
        ),
        (
            "var/lib/dpkg/status.d/base-files.md5sums",
            b"d41d8cd98f00b204e9800998ecf8427e  x\n",
        ),
        (
            "var/lib/dpkg/status.d/openssl",
            stanza("openssl", "3.0.11-1~deb12u2").as_bytes(),
        ),
    ]);
    let removal = layer(&[("var/lib/dpkg/status.d/.wh.openssl", b"")]);
    let c = scan_all(&[base, removal]);
    let names: Vec<&str> = c.packages.iter().map(|p| p.package.name.as_str()).collect();
    assert_eq!(names, ["base-files"]);
}

#[test]
fn a_layer_whose_digest_differs_fails_the_scan() {
    let blob = layer(&[("etc/hostname", b"x")]);
    let other = BlobDigest::of(HashAlg::Sha256, b"another blob");
    let mut inspector = NoInspector;
    let mut scan = Scan::new(Default::default(), &mut inspector, &NoRpmSqlite);
    let err = scan.layer(Some(&other), blob.as_slice()).unwrap_err();
    assert!(
        matches!(err, ScanError::DigestMismatch { layer: 0, .. }),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains(&BlobDigest::of(HashAlg::Sha256, &blob).to_string()));
}

#[test]
fn a_truncated_layer_is_an_error_not_an_empty_layer() {
    let blob = layer(&[("var/lib/dpkg/status", &status(&[("a", "1")]))]);
    let cut = &blob[..blob.len() - 6];
    let mut inspector = NoInspector;
    let mut scan = Scan::new(Default::default(), &mut inspector, &NoRpmSqlite);
    let err = scan.layer(None, cut).unwrap_err();
    assert!(matches!(err, ScanError::Layer { layer: 0, .. }), "{err}");
}

#[test]
fn a_corrupt_status_file_is_a_problem_not_an_empty_inventory() {
    let c = scan_all(&[layer(&[(
        "var/lib/dpkg/status",
        b"Package: a\nthis is not a field\n",
    )])]);
    assert!(c.packages.is_empty());
    assert_eq!(c.inventory_problems.len(), 1);
    assert!(
        c.inventory_problems[0].message.contains("line 2"),
        "{:?}",
        c.inventory_problems
    );
}

#[test]
fn an_old_rpm_database_is_reported_as_not_inventoried() {
    let c = scan_all(&[layer(&[("var/lib/rpm/Packages", b"\0\0\0\0berkeley")])]);
    assert_eq!(c.inventory_problems.len(), 1);
    assert!(c.inventory_problems[0].message.contains("Berkeley DB"));
}

#[derive(Default)]
struct Seen {
    passing: Vec<(usize, String)>,
}

impl Inspector for Seen {
    fn gather(&self, path: &str, mode: u32, _: u64) -> Want {
        if mode & 0o4000 != 0 {
            Want::Metadata
        } else if path == "etc/shadow" {
            Want::Content
        } else {
            Want::Skip
        }
    }
    fn wants_content(&self, path: &str, _: u64) -> bool {
        path.ends_with(".pem")
    }
    fn content(&mut self, layer: usize, path: &str, data: Vec<u8>) {
        assert!(!data.is_empty());
        self.passing.push((layer, path.to_owned()));
    }
}

#[test]
fn inspectors_keep_what_they_gather_and_see_deleted_files_in_passing() {
    let base = layer(&[
        ("root/key.pem", b"-----BEGIN PRIVATE KEY-----"),
        ("etc/shadow", b"root:*:19000:0:99999:7:::\n"),
        ("usr/bin/su", b"\x7fELF"),
    ]);
    let cleanup = layer(&[("root/.wh.key.pem", b"")]);
    let mut seen = Seen::default();
    let mut scan = Scan::new(Default::default(), &mut seen, &NoRpmSqlite);
    scan.layer(None, base.as_slice()).unwrap();
    scan.layer(None, cleanup.as_slice()).unwrap();
    let c = scan.finish();
    assert_eq!(seen.passing, vec![(0, "root/key.pem".to_owned())]);
    assert!(c.files.get("root/key.pem").is_none());
    assert!(c.files.get("etc/shadow").unwrap().content.is_some());
    let su = c.files.get("usr/bin/su").unwrap();
    assert_eq!((su.content.is_none(), su.mode & 0o4000), (true, 0o4000));
}

#[test]
fn the_threaded_digest_equals_the_one_shot_digest_across_batches() {
    use ironroot_scanner::DigestReader;
    use std::io::Read;
    let data: Vec<u8> = (0..3_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for alg in [HashAlg::Sha256, HashAlg::Sha512] {
        let mut r = DigestReader::new(data.as_slice(), alg);
        let mut chunk = vec![0u8; 65_537];
        while r.read(&mut chunk).unwrap() > 0 {}
        let (d, n) = r.finish();
        assert_eq!((d, n), (BlobDigest::of(alg, &data), data.len() as u64));
    }
}
