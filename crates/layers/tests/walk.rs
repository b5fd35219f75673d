//! Layers made here with the `tar` crate (and gzip/zstd), good and hostile, walked and
//! overlaid: whiteouts, path traversal, escaping symlinks, hard links to nothing, a gzip
//! bomb, a tar bomb, truncation, and real content reaching the visitor.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use ironroot_layers::{
    walk_layer, Compression, Entry, EntryKind, Finding, Gathered, LayerError, Limits, Overlay,
    PathIssue, Visitor,
};
use std::io::{Read, Write};

#[derive(Default)]
struct Record {
    entries: Vec<(usize, Entry)>,
    findings: Vec<Finding>,
    overlay: Overlay,
    wanted: Vec<&'static str>,
}

impl Visitor for Record {
    fn entry(&mut self, layer: usize, e: &Entry) -> bool {
        self.overlay.apply(e);
        self.entries.push((layer, e.clone()));
        self.wanted.iter().any(|w| *w == e.path)
    }
    fn content(&mut self, layer: usize, e: &Entry, data: &mut dyn Read) -> std::io::Result<()> {
        let mut v = Vec::new();
        data.read_to_end(&mut v)?;
        self.overlay.put(
            &e.path,
            Gathered {
                layer,
                mode: e.mode,
                uid: e.uid,
                gid: e.gid,
                size: e.size,
                content: Some(v),
            },
        );
        Ok(())
    }
    fn finding(&mut self, _layer: usize, f: Finding) {
        self.findings.push(f);
    }
}

/// A tar built entry by entry; paths are written raw (no checks), as an attacker would.
struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    fn new() -> Self {
        Layer(tar::Builder::new(Vec::new()))
    }
    fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..path.len()].copy_from_slice(path.as_bytes());
        }
        h.set_cksum();
        h
    }
    fn file(mut self, path: &str, body: &[u8]) -> Self {
        let h = Self::header(path, tar::EntryType::Regular, body.len() as u64);
        self.0.append(&h, body).unwrap();
        self
    }
    fn link(mut self, path: &str, kind: tar::EntryType, target: &str) -> Self {
        let mut h = Self::header(path, kind, 0);
        h.set_link_name(target).unwrap();
        h.set_cksum();
        self.0.append(&h, std::io::empty()).unwrap();
        self
    }
    fn tar(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
    fn gz(self) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&self.tar()).unwrap();
        e.finish().unwrap()
    }
}

#[test]
fn whiteouts_and_opaque_dirs_remove_what_lower_layers_gathered() {
    let base = Layer::new()
        .file("var/lib/dpkg/status", b"Package: a\n")
        .file("etc/shadow", b"root:*:1::::::\n")
        .file("etc/app/conf", b"x")
        .gz();
    let upper = Layer::new()
        .file("etc/.wh.shadow", b"")
        .file("etc/app/.wh..wh..opq", b"")
        .file("var/lib/dpkg/status", b"Package: b\n")
        .tar();
    let zstd_layer = zstd::encode_all(&Layer::new().file("etc/new", b"n").tar()[..], 1).unwrap();
    let mut r = Record {
        wanted: vec![
            "var/lib/dpkg/status",
            "etc/shadow",
            "etc/app/conf",
            "etc/new",
        ],
        ..Default::default()
    };
    let l = Limits::default();
    assert_eq!(
        walk_layer(0, &base[..], &l, &mut r).unwrap().compression,
        Compression::Gzip
    );
    assert_eq!(r.overlay.len(), 3);
    assert_eq!(
        walk_layer(1, &upper[..], &l, &mut r).unwrap().compression,
        Compression::None
    );
    assert_eq!(
        walk_layer(2, &zstd_layer[..], &l, &mut r)
            .unwrap()
            .compression,
        Compression::Zstd
    );
    let status = r.overlay.get("var/lib/dpkg/status").unwrap();
    assert_eq!(
        (status.layer, status.content.as_deref()),
        (1, Some(&b"Package: b\n"[..]))
    );
    assert!(r.overlay.get("etc/shadow").is_none(), "whited out");
    assert!(r.overlay.get("etc/app/conf").is_none(), "opaque directory");
    assert_eq!(r.overlay.get("etc/new").unwrap().layer, 2);
    assert!(r.entries.iter().any(|(_, e)| e.kind
        == EntryKind::Whiteout {
            of: "etc/shadow".into()
        }));
    assert!(r
        .entries
        .iter()
        .any(|(_, e)| e.kind == EntryKind::OpaqueDir && e.path == "etc/app"));
}

#[test]
fn hostile_paths_and_links_are_findings_and_skipped() {
    let layer = Layer::new()
        .file("../../etc/passwd", b"evil")
        .file("/etc/absolute", b"fine")
        .file("a/../../b", b"evil")
        .link(
            "usr/lib/out",
            tar::EntryType::Symlink,
            "../../../etc/shadow",
        )
        .link("bin/sh", tar::EntryType::Symlink, "/bin/busybox")
        .link("bin/hard", tar::EntryType::Link, "bin/nothing-here")
        .file("bin/real", b"r")
        .link("bin/hard2", tar::EntryType::Link, "bin/real")
        .tar();
    let mut r = Record::default();
    walk_layer(0, &layer[..], &Limits::default(), &mut r).unwrap();
    let paths: Vec<&str> = r.entries.iter().map(|(_, e)| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "etc/absolute",
            "usr/lib/out",
            "bin/sh",
            "bin/real",
            "bin/hard2"
        ]
    );
    assert_eq!(
        r.findings,
        [
            Finding::PathRefused {
                raw: "../../etc/passwd".into(),
                issue: PathIssue::Traversal
            },
            Finding::PathRefused {
                raw: "a/../../b".into(),
                issue: PathIssue::Traversal
            },
            Finding::SymlinkEscapes {
                path: "usr/lib/out".into(),
                target: "../../../etc/shadow".into()
            },
            Finding::HardlinkToMissing {
                path: "bin/hard".into(),
                target: "bin/nothing-here".into()
            },
        ]
    );
}

#[test]
fn a_gzip_bomb_stops_at_the_ratio_and_a_big_layer_at_the_size() {
    // 64 MiB of zeros in one file: about 64 KiB of gzip, a ratio near 1000.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    {
        let mut b = tar::Builder::new(&mut e);
        let mut h = tar::Header::new_gnu();
        h.set_path("zeros").unwrap();
        h.set_size(64 << 20);
        h.set_cksum();
        b.append(&h, std::io::repeat(0).take(64 << 20)).unwrap();
        b.finish().unwrap();
    }
    let bomb = e.finish().unwrap();
    let limits = Limits {
        ratio_grace: 1 << 20,
        max_ratio: 100,
        ..Limits::default()
    };
    let mut r = Record::default();
    match walk_layer(0, &bomb[..], &limits, &mut r) {
        Err(LayerError::Bomb { ratio, max: 100 }) => assert!(ratio > 100),
        other => panic!("{other:?}"),
    }
    let limits = Limits {
        max_layer_bytes: 8 << 20,
        ..Limits::default()
    };
    assert!(matches!(
        walk_layer(0, &bomb[..], &limits, &mut r),
        Err(LayerError::TooLarge(_))
    ));
}

#[test]
fn a_tar_bomb_stops_at_the_entry_limit() {
    let mut l = Layer::new();
    for i in 0..1_001 {
        l = l.file(&format!("f{i}"), b"");
    }
    let layer = l.tar();
    let limits = Limits {
        max_entries: 1_000,
        ..Limits::default()
    };
    let mut r = Record::default();
    assert!(matches!(
        walk_layer(0, &layer[..], &limits, &mut r),
        Err(LayerError::TooManyEntries(1_000))
    ));
}

#[test]
fn truncated_and_garbage_layers_are_clear_errors() {
    let full = Layer::new().file("a", &[7u8; 5000]).file("b", b"bb").gz();
    let mut r = Record {
        wanted: vec!["a", "b"],
        ..Default::default()
    };
    for cut in [10, full.len() / 2, full.len() - 9] {
        let e = walk_layer(0, &full[..cut], &Limits::default(), &mut r).unwrap_err();
        assert!(
            matches!(e, LayerError::Corrupt { .. }),
            "cut at {cut}: {e:?}"
        );
        assert!(e.to_string().contains("truncated or corrupt"), "{e}");
    }
    let e = walk_layer(
        0,
        &b"this is not a tar archive at all, not even close.............."[..],
        &Limits::default(),
        &mut r,
    );
    assert!(e.is_err() || r.entries.is_empty());
    // Byte flips anywhere never panic.
    for i in (0..full.len()).step_by(7) {
        let mut bad = full.clone();
        bad[i] ^= 0x5a;
        let _ = walk_layer(0, &bad[..], &Limits::default(), &mut Record::default());
    }
}

#[test]
fn files_over_the_read_limit_are_not_read_but_said() {
    let layer = Layer::new()
        .file("big", &[1u8; 4096])
        .file("small", b"s")
        .tar();
    let mut r = Record {
        wanted: vec!["big", "small"],
        ..Default::default()
    };
    let limits = Limits {
        max_file_bytes: 1024,
        ..Limits::default()
    };
    walk_layer(0, &layer[..], &limits, &mut r).unwrap();
    assert!(r.overlay.get("big").is_none());
    assert_eq!(
        r.overlay.get("small").unwrap().content.as_deref(),
        Some(&b"s"[..])
    );
    assert_eq!(
        r.findings,
        [Finding::FileTooLarge {
            path: "big".into(),
            size: 4096
        }]
    );
}
