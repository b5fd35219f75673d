#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bad layers given to `ironroot scan`: a blob altered after the manifest named its
//! digest fails the scan; path traversal, absolute paths, escaping links and bombs are
//! findings or clear errors, and nothing is written outside the scan's own space.

mod scan_lab;

use scan_lab::{ok, stderr, Work};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes an OCI layout holding `layers` (raw blobs) and returns its path.
fn layout(w: &Work, name: &str, layers: &[Vec<u8>]) -> String {
    let dir = PathBuf::from(w.p(name));
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let put = |data: &[u8]| {
        let d = ironroot_crypto::digest(ironroot_crypto::HashAlg::Sha256, data);
        let hex = hex::encode(d);
        std::fs::write(dir.join("blobs/sha256").join(&hex), data).unwrap();
        serde_json::json!({"digest": format!("sha256:{hex}"), "size": data.len()})
    };
    let mut descs = Vec::new();
    for l in layers {
        let mut d = put(l);
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
        descs.push(d);
    }
    let mut config = put(br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#);
    config["mediaType"] = "application/vnd.oci.image.config.v1+json".into();
    let manifest = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": config, "layers": descs});
    let mut m = put(manifest.to_string().as_bytes());
    m["mediaType"] = "application/vnd.oci.image.manifest.v1+json".into();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": [m]});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    format!("oci:{}", dir.display())
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A tar whose entry names are written raw, as an attacker would.
fn raw_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, body) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.as_gnu_mut().unwrap().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, *body).unwrap();
    }
    b.into_inner().unwrap()
}

#[test]
fn altered_and_hostile_layers_fail_or_are_findings() {
    let w = Work::new("bad");
    w.update_db();
    // One byte of a layer blob changed: the scan fails and names the layer.
    let img = layout(
        &w,
        "altered",
        &[gz(&raw_tar(&[("etc/os-release", b"ID=debian\n")]))],
    );
    let blobs = PathBuf::from(w.p("altered/blobs/sha256"));
    let manifest: Value = {
        let index: Value =
            serde_json::from_slice(&std::fs::read(w.p("altered/index.json")).unwrap()).unwrap();
        let d = index["manifests"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_owned();
        serde_json::from_slice(&std::fs::read(blobs.join(d)).unwrap()).unwrap()
    };
    let layer = blobs.join(
        manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:"),
    );
    let mut bytes = std::fs::read(&layer).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&layer, &bytes).unwrap();
    let (o, _) = w.scan(&img, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("layer 0"), "{}", stderr(&o));

    // Path traversal and an absolute path: findings, and nothing written anywhere.
    let escape = format!("../../../../tmp/ironroot-escape-{}", std::process::id());
    let img = layout(
        &w,
        "hostile",
        &[gz(&raw_tar(&[
            (&escape, b"x"),
            ("/etc/cron.d/evil", b"x"),
            ("etc/ok", b"x"),
        ]))],
    );
    let (o, v) = w.scan(&img, &[]);
    ok(o);
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| **i == "IR-LAYER-PATH").count(),
        1,
        "{v}"
    );
    assert!(!Path::new(&format!("/tmp/ironroot-escape-{}", std::process::id())).exists());

    // A gzip bomb: 1 GiB of zeros in about 1 MiB stops at the ratio limit, clearly.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        e.write_all(&zeros).unwrap();
    }
    let img = layout(&w, "bomb", &[e.finish().unwrap()]);
    let (o, _) = w.scan(&img, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("compression bomb"), "{}", stderr(&o));

    // A corrupt status file: the scan reports it as incomplete, not as "no packages".
    let img = layout(
        &w,
        "corrupt",
        &[gz(&raw_tar(&[
            ("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
            ("var/lib/dpkg/status", b"Package: a\n\xff\xfe garbage\n"),
        ]))],
    );
    let (o, v) = w.scan(&img, &[]);
    ok(o);
    assert_eq!(v["problems"][0]["kind"], "inventory", "{v}");
}
