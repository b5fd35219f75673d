//! A registry that sends more than it should: a signature layer whose descriptor claims a
//! few bytes but whose blob never ends. The client must refuse it with the limit named and
//! stop reading at the limit, not download the blob into memory first (which
//! `ironroot verify` did before the registry readers became one).
//!
//! The registry is a few lines of HTTP on loopback, so that the bytes sent can be counted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_oci::registry::{Attachment, Registry, RegistryError};
use ironroot_signing::PinnedImage;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const IMAGE: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// What the hostile blob offers: far more than any limit, and than a test should hold.
const OFFERED: u64 = 256 << 20;
const CHUNK: usize = 64 * 1024;

fn sha256(data: &[u8]) -> String {
    format!(
        "sha256:{}",
        hex::encode(ironroot_crypto::digest(
            ironroot_crypto::HashAlg::Sha256,
            data
        ))
    )
}

/// The `.sig` manifest: one simple-signing layer that says it is 200 bytes.
fn sig_manifest(layer_digest: &str, declared: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(b"{}"), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": layer_digest, "size": declared,
            "annotations": {"dev.cosignproject.cosign/signature": "AAAA"}
        }]
    }))
    .unwrap()
}

struct Hostile {
    addr: String,
    sent: Arc<AtomicU64>,
}

/// Serves `/v2/`, the `.sig` manifest, and for any blob an endless body; `sent` counts
/// the blob bytes the client accepted.
async fn hostile_registry(manifest: Vec<u8>, content_length: Option<u64>) -> Hostile {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(serve(
                conn,
                manifest.clone(),
                content_length,
                counter.clone(),
            ));
        }
    });
    Hostile { addr, sent }
}

async fn serve(
    mut conn: TcpStream,
    manifest: Vec<u8>,
    content_length: Option<u64>,
    sent: Arc<AtomicU64>,
) {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if conn.read(&mut byte).await.unwrap_or(0) == 0 {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
        if path.contains("/blobs/") {
            let length = content_length
                .map(|l| format!("Content-Length: {l}\r\n"))
                .unwrap_or_default();
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{length}Connection: close\r\n\r\n"
            );
            if conn.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; CHUNK];
            let mut total = 0u64;
            while total < OFFERED {
                if conn.write_all(&chunk).await.is_err() {
                    return;
                }
                total += CHUNK as u64;
                sent.store(total, Ordering::SeqCst);
            }
            return;
        }
        let (status, kind, body): (&str, &str, &[u8]) = if path == "/v2/" {
            ("200 OK", "application/json", b"{}")
        } else if path.contains("/manifests/sha256-") && path.ends_with(".sig") {
            (
                "200 OK",
                "application/vnd.oci.image.manifest.v1+json",
                &manifest,
            )
        } else {
            ("404 Not Found", "application/json", br#"{"errors":[]}"#)
        };
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if conn.write_all(reply.as_bytes()).await.is_err() || conn.write_all(body).await.is_err() {
            return;
        }
    }
}

fn no_credentials() {
    let file = std::env::temp_dir().join(format!("ironroot-oci-auth-{}.json", std::process::id()));
    std::fs::write(&file, br#"{"auths": {}}"#).unwrap();
    std::env::set_var("REGISTRY_AUTH_FILE", &file);
}

async fn signatures_from(registry: &Hostile) -> Vec<ironroot_oci::registry::FoundSignature> {
    no_credentials();
    let image = PinnedImage::parse(&format!("{}/app@{IMAGE}", registry.addr)).unwrap();
    let reg = Registry::new(&image.reference, true).unwrap();
    reg.signatures(&image).await.unwrap()
}

/// Waits until the server's count has not moved for a while: the client stopped reading.
async fn settled(sent: &AtomicU64) -> u64 {
    let mut last = u64::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = sent.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[tokio::test]
async fn a_signature_blob_larger_than_the_limit_is_refused_while_it_streams() {
    let registry = hostile_registry(sig_manifest(&sha256(b"small"), 200), None).await;
    let found = signatures_from(&registry).await;
    assert_eq!(found.len(), 1);
    let max = Attachment::Signatures.max_layer();
    let err = found[0].payload.as_ref().unwrap_err();
    assert!(
        err.contains(&format!("more than the {max} allowed")),
        "{err}"
    );
    // Socket buffers on both sides hold a few MiB; the blob offered 256 MiB.
    let sent = settled(&registry.sent).await;
    assert!(
        sent < 32 << 20,
        "the client read {sent} bytes of a blob limited to {max}"
    );
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_the_body_is_read() {
    let registry = hostile_registry(sig_manifest(&sha256(b"small"), 200), Some(OFFERED)).await;
    let found = signatures_from(&registry).await;
    let err = found[0].payload.as_ref().unwrap_err();
    assert!(
        err.contains(&format!("is {OFFERED} bytes, more than")),
        "{err}"
    );
    let sent = settled(&registry.sent).await;
    assert!(sent < 32 << 20, "the client read {sent} bytes");
}

#[tokio::test]
async fn a_descriptor_over_the_limit_is_not_even_requested() {
    let max = Attachment::Signatures.max_layer();
    let registry = hostile_registry(sig_manifest(&sha256(b"small"), max + 1), None).await;
    let found = signatures_from(&registry).await;
    let err = found[0].payload.as_ref().unwrap_err();
    assert!(err.contains("more than the"), "{err}");
    assert_eq!(registry.sent.load(Ordering::SeqCst), 0);
}

#[test]
fn the_limit_error_names_the_sizes() {
    let e = RegistryError::TooLarge {
        what: "blob sha256:ab".into(),
        size: 70_000,
        max: 65_536,
    };
    assert_eq!(
        e.to_string(),
        "blob sha256:ab is 70000 bytes, more than the 65536 allowed"
    );
}
