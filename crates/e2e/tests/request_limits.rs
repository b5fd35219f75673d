//! What a request costs before it is authenticated, and what slow or idle connections
//! can hold: the attacks of a security review of f01a2b5 against a real service on
//! loopback, with raw TLS so that every byte on the wire is the test's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use ironroot_e2e::{peers_available, Node, Platform, TempDir};
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

fn connector(ca_pem: &str) -> TlsConnector {
    let cfg = ironroot_tls::service_client_config(ca_pem.as_bytes(), None).unwrap();
    TlsConnector::from(Arc::new(cfg))
}

/// A TCP connection to the service from `source` (any 127.0.0.0/8 address).
async fn tcp_from(source: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpSocket::new_v4()?;
    s.bind(SocketAddr::from((source, 0)))?;
    s.connect(to).await
}

async fn tls(p: &Platform, source: [u8; 4]) -> TlsStream<TcpStream> {
    tls_to(p.service.addr, &p.service.ca_pem, source).await
}

async fn tls_to(addr: SocketAddr, ca_pem: &str, source: [u8; 4]) -> TlsStream<TcpStream> {
    let tcp = tcp_from(source, addr).await.unwrap();
    connector(ca_pem)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap()
}

async fn request(p: &Platform, head: &str, body: &[u8]) -> (u16, serde_json::Value) {
    request_to(p.service.addr, &p.service.ca_pem, head, body).await
}

/// Sends one HTTP/1.1 request (ignoring a write the server cut short by answering
/// early) and returns the status and body of the answer.
async fn request_to(
    addr: SocketAddr,
    ca_pem: &str,
    head: &str,
    body: &[u8],
) -> (u16, serde_json::Value) {
    let mut s = tls_to(addr, ca_pem, [127, 0, 0, 1]).await;
    let head = format!(
        "{head}\r\nHost: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes()).await.is_ok() {
        let _ = s.write_all(body).await;
        let _ = s.flush().await;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.into())),
    )
}

fn token(p: &Platform) -> String {
    std::fs::read_to_string(p.config.data_dir.join("admin.token")).unwrap()
}

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// 16 MiB of `{"flavors":[0,0,...]}` used to be read and parsed into a JSON tree before
/// the token was checked (643 MB each). Now the caller without a token gets a bare 401
/// and nothing is read; with the token, the flavor route's limit answers 413, and a
/// body under the limit is parsed into flavors, failing at the first element.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_of_json_before_authentication_costs_nothing_and_errors_are_uniform() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("bodies").unwrap();
    let p = Platform::start(dir, vec![], |c| {
        c.ek_cert_policy = ironroot_server::EkCertPolicy::IfPresent;
    })
    .await
    .unwrap();
    let zeros = |n: usize| {
        let mut b = b"{\"flavors\":[0".to_vec();
        while b.len() < n {
            b.extend_from_slice(b",0");
        }
        b.extend_from_slice(b"]}");
        b
    };
    let big = Arc::new(zeros(16 << 20));
    let before = rss_kib("VmHWM:");
    let auth = format!("Authorization: Bearer {}", token(&p));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let head = if i % 2 == 0 {
            "POST /v1/flavors HTTP/1.1\r\nContent-Type: application/json".to_string()
        } else {
            format!("POST /v1/flavors HTTP/1.1\r\nContent-Type: application/json\r\n{auth}")
        };
        let (addr, ca, big) = (p.service.addr, p.service.ca_pem.clone(), big.clone());
        tasks.push(tokio::spawn(async move {
            request_to(addr, &ca, &head, &big).await
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    for (i, (status, body)) in answers.into_iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(status, 401);
            assert_eq!(
                body,
                serde_json::json!({"kind": "unauthenticated", "message": "authentication required"}),
                "an unauthenticated caller learns nothing else"
            );
        } else {
            assert_eq!(status, 413);
            assert_eq!(body["kind"], "payload_too_large");
        }
    }
    // Just under the limit, with the token: typed parsing stops at the first element.
    let (status, body) = request(
        &p,
        &format!("POST /v1/flavors HTTP/1.1\r\nContent-Type: application/json\r\n{auth}"),
        &zeros((4 << 20) - 64),
    )
    .await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("bad_request")));
    let grown_mib = rss_kib("VmHWM:").saturating_sub(before) / 1024;
    eprintln!("peak memory grew by {grown_mib} MiB for 8 x 16 MiB bodies");
    assert!(
        grown_mib < 200,
        "peak memory grew by {grown_mib} MiB (f01a2b5: 643 MB per body)"
    );
    // Every other refusal has the documented shape.
    let cases = [
        ("GET /v1/nowhere HTTP/1.1".to_string(), 404, "not_found"),
        (
            format!("POST /v1/flavors HTTP/1.1\r\nContent-Type: text/plain\r\n{auth}"),
            415,
            "unsupported_media_type",
        ),
        (
            format!("POST /v1/flavor-groups HTTP/1.1\r\nContent-Type: application/json\r\n{auth}"),
            400,
            "bad_request",
        ),
        (
            "POST /v1/enroll HTTP/1.1\r\nContent-Type: application/json".to_string(),
            400,
            "bad_request",
        ),
        (
            "POST /v1/attest/evidence HTTP/1.1\r\nContent-Type: application/json".to_string(),
            401,
            "unauthenticated",
        ),
        ("DELETE /healthz HTTP/1.1".to_string(), 400, "bad_request"),
    ];
    for (head, want, kind) in cases {
        let (status, body) = request(&p, &head, b"{\"x\":").await;
        assert_eq!(
            (status, body["kind"].as_str()),
            (want, Some(kind)),
            "{head}"
        );
    }
    // An enrollment body over its limit is refused before parsing.
    let (status, body) = request(
        &p,
        "POST /v1/enroll HTTP/1.1\r\nContent-Type: application/json",
        &vec![b' '; 128 * 1024],
    )
    .await;
    assert_eq!(
        (status, body["kind"].as_str()),
        (413, Some("payload_too_large"))
    );
}

/// 114 idle TLS connections used to make a service with 128 file descriptors
/// unreachable. Now one address holds at most its share, connections that send no
/// complete headers are closed, idle ones too, and an agent attests throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_do_not_keep_an_agent_out() {
    if !peers_available() {
        return;
    }
    let dir = TempDir::new("slowloris").unwrap();
    let node = Node::boot(&dir.0, "node-1").await.unwrap();
    let p = Platform::start(dir, node.ca.clone(), |c| {
        c.max_connections = 64;
        c.max_connections_per_address = 8;
        c.header_read_timeout_secs = 2;
        c.idle_timeout_secs = 3;
    })
    .await
    .unwrap();
    // The attacker, at 127.0.0.2, opens far more connections than its share and
    // sends half a request on those the service kept.
    let mut held = Vec::new();
    for _ in 0..200 {
        if let Ok(c) = tcp_from([127, 0, 0, 2], p.service.addr).await {
            held.push(c);
        }
    }
    let connector = connector(&p.service.ca_pem);
    let mut slow = Vec::new();
    for _ in 0..8 {
        let Ok(tcp) = tcp_from([127, 0, 0, 3], p.service.addr).await else {
            continue;
        };
        let name = ServerName::try_from("localhost").unwrap();
        if let Ok(Ok(mut t)) =
            tokio::time::timeout(Duration::from_secs(5), connector.connect(name, tcp)).await
        {
            let _ = t
                .write_all(b"POST /v1/attest/challenge HTTP/1.1\r\nHost: x\r\n")
                .await;
            slow.push(t);
        }
    }
    assert!(!slow.is_empty());
    // The agent, at 127.0.0.1, enrolls and attests while all that is held.
    let mut s = node.session(&p.url(), &p.service.ca_pem).unwrap();
    s.ensure_enrolled().await.unwrap();
    s.attest_once().await.unwrap();
    // Half a request is not held past the header timeout.
    for mut t in slow {
        let mut buf = [0u8; 256];
        let r = tokio::time::timeout(Duration::from_secs(15), t.read(&mut buf)).await;
        assert!(
            matches!(r, Ok(Ok(_)) | Ok(Err(_))),
            "a connection without complete headers was kept open"
        );
    }
    // A connection idle after its request is closed.
    let mut idle = tls(&p, [127, 0, 0, 4]).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let closed = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match idle.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an idle connection was kept open");
    drop(held);
    s.attest_once().await.unwrap();
}

/// An administrator token file shorter than 32 bytes (an empty one used to make an
/// empty bearer credential the administrator) stops the service at start.
#[tokio::test]
async fn short_admin_token_refuses_to_start() {
    let dir = TempDir::new("token").unwrap();
    let data = dir.0.join("service");
    std::fs::create_dir_all(&data).unwrap();
    for short in ["", "\n", "0123456789abcdef"] {
        std::fs::write(data.join("admin.token"), short).unwrap();
        let mut c = ironroot_server::ServerConfig::new(data.clone());
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.ek_cert_policy = ironroot_server::EkCertPolicy::IfPresent;
        let err = ironroot_server::Service::start(c).await.err().unwrap();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }
}

/// The data directory holds the CA key, the signing keys and the nonce key: it used to
/// be 0755 with `ironroot.db` 0644. A directory made looser by hand is tightened at start.
#[tokio::test]
async fn data_directory_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("perms").unwrap();
    let data = dir.0.join("service");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let p = Platform::start(dir, vec![], |c| {
        c.ek_cert_policy = ironroot_server::EkCertPolicy::IfPresent;
    })
    .await
    .unwrap();
    let mode = |f: &std::path::Path| std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&p.config.data_dir), 0o700);
    for f in ["ironroot.db", "ca.key", "admin.token", "broker-master.key"] {
        let m = mode(&p.config.data_dir.join(f));
        assert_eq!(m & 0o077, 0, "{f} is {m:o}");
    }
}
