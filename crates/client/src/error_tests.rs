#![allow(clippy::unwrap_used, clippy::panic)]

use super::*;
use ironroot_api::ErrorKind;

/// Every kind the service sends. `ErrorKind` is non-exhaustive, so a new kind must be
/// added here; `every_error_kind_round_trips` then checks it too.
const KINDS: [(ErrorKind, &str, u16); 13] = [
    (ErrorKind::BadRequest, "bad_request", 400),
    (ErrorKind::Unauthenticated, "unauthenticated", 401),
    (ErrorKind::Forbidden, "forbidden", 403),
    (ErrorKind::NotFound, "not_found", 404),
    (ErrorKind::Conflict, "conflict", 409),
    (ErrorKind::NonceInvalid, "nonce_invalid", 400),
    (ErrorKind::EnrollmentRejected, "enrollment_rejected", 403),
    (ErrorKind::EvidenceRejected, "evidence_rejected", 400),
    (ErrorKind::PayloadTooLarge, "payload_too_large", 413),
    (
        ErrorKind::UnsupportedMediaType,
        "unsupported_media_type",
        415,
    ),
    (ErrorKind::RateLimited, "rate_limited", 429),
    (ErrorKind::Unavailable, "unavailable", 503),
    (ErrorKind::Internal, "internal", 500),
];

#[test]
fn every_error_kind_round_trips() {
    for (kind, wire, status) in KINDS {
        let body = format!(r#"{{"kind":"{wire}","message":"host node-1 said no"}}"#);
        let e = decode::<serde_json::Value>(status, body.as_bytes()).unwrap_err();
        let ClientError::Api { status: s, error } = &e else {
            panic!("{wire}: {e:?}");
        };
        assert_eq!((s.0, error.kind), (status, kind), "{wire}");
        assert_eq!(error.message, "host node-1 said no");
        assert_eq!(e.to_string(), format!("host node-1 said no ({kind:?})"));
        assert_eq!(e.api(), Some(error));
        // And back: what the service serialises is what the client decodes.
        let sent = serde_json::to_vec(error).unwrap();
        let again = decode::<()>(status, &sent).unwrap_err();
        assert_eq!(again.api(), Some(error), "{wire}");
    }
}

#[test]
fn an_error_body_that_is_not_an_api_error_gives_the_status() {
    for body in [
        &b"<html>bad gateway</html>"[..],
        b"",
        br#"{"kind":"no_such_kind","message":"x"}"#,
    ] {
        let e = decode::<serde_json::Value>(502, body).unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::Status {
                    status: HttpStatus(502)
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.to_string(), "the service answered HTTP 502 Bad Gateway");
        assert_eq!(e.status(), Some(HttpStatus(502)));
        assert!(e.api().is_none());
    }
}

#[test]
fn a_success_body_of_the_wrong_shape_is_a_decode_error() {
    let e = decode::<ironroot_api::Challenge>(200, b"{\"nonce\":1}").unwrap_err();
    assert!(matches!(e, ClientError::Decode(_)), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("unexpected response from the service"),
        "{e}"
    );
    let ok: serde_json::Value = decode(201, b"{\"deleted\":\"x\"}").unwrap();
    assert_eq!(ok["deleted"], "x");
}

#[test]
fn a_refusal_quoting_node_chosen_text_cannot_reach_the_terminal_raw() {
    let body =
        br#"{"kind":"not_found","message":"host node-9\nnode-1  TRUSTED\u001b[2J\\ not found"}"#;
    let e = decode::<()>(404, body).unwrap_err();
    let shown = e.to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert_eq!(
        shown,
        "host node-9\\nnode-1  TRUSTED\\u{1b}[2J\\\\ not found (NotFound)"
    );
}

#[test]
fn statuses_show_their_reason() {
    assert_eq!(HttpStatus(404).to_string(), "404 Not Found");
    assert_eq!(HttpStatus(299).to_string(), "299 <unknown status code>");
}
