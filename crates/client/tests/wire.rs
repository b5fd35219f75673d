//! The client against a canned HTTP server on loopback (plain http, which the client
//! allows only there and only with the explicit flag): what it sends, and how it reads
//! answers it must refuse.

#![allow(clippy::unwrap_used, clippy::panic)]

use ironroot_api::ErrorKind;
use ironroot_client::{Client, ClientError, HttpStatus, PlainHttp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `answer` to one request and returns the request's head.
async fn serve_once(answer: Vec<u8>) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        // The peer may close early (an oversized answer): ignore write errors.
        let _ = s.write_all(&answer).await;
        let _ = s.shutdown().await;
        String::from_utf8_lossy(&head).into_owned()
    });
    (url, task)
}

fn answer(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut a = format!("HTTP/1.1 {status}\r\nconnection: close\r\n{headers}\r\n").into_bytes();
    a.extend_from_slice(body);
    a
}

fn json(status: &str, body: &str) -> Vec<u8> {
    answer(
        status,
        &format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ),
        body.as_bytes(),
    )
}

fn admin(url: &str) -> Client {
    Client::admin(url, b"", "s3cret", PlainHttp::LoopbackOnly).unwrap()
}

#[tokio::test]
async fn admin_requests_carry_the_token_and_typed_routes_encode_their_path() {
    let (url, seen) = serve_once(json("200 OK", "[]")).await;
    let tags = admin(&url).tag_history("team/node 1").await.unwrap();
    assert!(tags.is_empty());
    let head = seen.await.unwrap();
    assert!(
        head.starts_with("GET /v1/hosts/team%2Fnode%201/tags HTTP/1.1"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("authorization: bearer s3cret"),
        "{head}"
    );
}

#[tokio::test]
async fn a_refusal_is_decoded_into_its_kind() {
    let body = r#"{"kind":"not_found","message":"host ghost not found"}"#;
    let (url, _) = serve_once(json("404 Not Found", body)).await;
    let e = admin(&url).host("ghost").await.unwrap_err();
    let api = e.api().unwrap();
    assert_eq!(api.kind, ErrorKind::NotFound);
    assert_eq!(e.to_string(), "host ghost not found (NotFound)");
}

#[tokio::test]
async fn a_non_json_error_body_gives_the_status() {
    let (url, _) = serve_once(answer(
        "502 Bad Gateway",
        "content-type: text/html\r\ncontent-length: 9\r\n",
        b"<h1>x</h1",
    ))
    .await;
    let e = admin(&url).keys().await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Status {
                status: HttpStatus(502)
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn an_oversized_answer_is_refused_whether_announced_or_not() {
    let big = vec![b' '; 4096];
    let (url, _) = serve_once(json("200 OK", &String::from_utf8(big.clone()).unwrap())).await;
    let e = admin(&url)
        .with_response_limit(1024)
        .keys()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::TooLarge { limit: 1024 }), "{e:?}");
    // No length announced: the bytes are counted as they come (here until the close).
    let (url, _) = serve_once(answer("200 OK", "", &big)).await;
    let e = admin(&url)
        .with_response_limit(1024)
        .keys()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::TooLarge { limit: 1024 }), "{e:?}");
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_token_stays_put() {
    let (url, _) = serve_once(answer(
        "307 Temporary Redirect",
        "location: http://192.0.2.1/v1/keys\r\ncontent-length: 0\r\n",
        b"",
    ))
    .await;
    let e = admin(&url).keys().await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Status {
                status: HttpStatus(307)
            }
        ),
        "{e:?}"
    );
}

#[test]
fn http_is_refused_unless_loopback_and_the_explicit_flag() {
    let refused = |url: &str, plain: PlainHttp| {
        Client::admin(url, b"", "t", plain)
            .err()
            .unwrap()
            .to_string()
    };
    assert!(refused("http://127.0.0.1:8443", PlainHttp::Refused).contains("only https://"));
    assert!(refused("http://ironroot.example:8443", PlainHttp::Refused).contains("only https://"));
    assert!(refused("http://ironroot.example", PlainHttp::LoopbackOnly).contains("loopback"));
    assert!(refused("http://localhost:8080", PlainHttp::LoopbackOnly).contains("loopback"));
    assert!(Client::admin("http://127.0.0.1:8080", b"", "t", PlainHttp::LoopbackOnly).is_ok());
    assert!(Client::admin("http://[::1]:8080", b"", "t", PlainHttp::LoopbackOnly).is_ok());
    assert!(Client::admin("https://ironroot.example", b"", "t", PlainHttp::Refused).is_ok());
    // An agent has no flag: https only, even on loopback.
    let e = Client::agent("http://127.0.0.1:8443", b"", None)
        .err()
        .unwrap();
    assert!(matches!(e, ClientError::Url(_)), "{e:?}");
    assert!(Client::agent("https://127.0.0.1:8443", b"", None).is_ok());
}

#[test]
fn an_unreadable_service_ca_is_refused() {
    let garbage = b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n";
    let e = Client::admin("https://127.0.0.1:1", garbage, "t", PlainHttp::Refused)
        .err()
        .unwrap();
    assert!(matches!(e, ClientError::Ca(_)), "{e:?}");
    assert!(e.to_string().starts_with("the service CA"), "{e}");
}
