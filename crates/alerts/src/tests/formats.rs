//! The sinks' wire formats against byte-exact vectors (the HMAC computed independently
//! with Python's `hmac` module), and their escaping against hostile strings.

use super::{notice, opened};
use crate::syslog::{octet_frame, rfc5424, Origin};
use crate::webhook::{body, sign, verify, SignatureError};
use crate::*;

const BODY: &str = concat!(
    r#"{"version":1,"delivery_id":"d-1","change":"opened","alert":{"id":"al-1","source":"trust","#,
    r#""subject":"host/h1","kind":"trust-lost","severity":"high","title":"host node-1 lost trust","#,
    r#""details":"pcr 7 mismatch","first_seen":1700000000,"last_seen":1700000000,"count":1,"#,
    r#""state":"open","acknowledged_by":null,"acknowledged_at":null,"resolved_by":null,"#,
    r#""resolved_automatically":false,"resolved_at":null,"remediation":"taint"}}"#
);
/// python3: hmac.new(b"whsec-test", b"1700000005." + BODY, hashlib.sha256).hexdigest()
const SIG: &str =
    "t=1700000005,v1=e4c688c8e1df02cee774f17dd04515d7994d7eff3523c45c8493ae5c3557cd7d";

fn origin() -> Origin {
    Origin {
        facility: 4,
        hostname: "hub.example".into(),
    }
}

#[test]
fn webhook_body_and_signature_are_byte_exact() {
    let n = notice(&opened(), Change::Opened);
    let b = body(&n).unwrap();
    assert_eq!(std::str::from_utf8(&b).unwrap(), BODY);
    assert_eq!(sign(b"whsec-test", 1_700_000_005, &b), SIG);
    let back: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let record: AlertRecord = serde_json::from_value(back["alert"].clone()).unwrap();
    assert_eq!(record, n.alert);
}

#[test]
fn a_receiver_accepts_within_its_window_and_refuses_the_rest() {
    let b = BODY.as_bytes();
    assert_eq!(verify(b"whsec-test", SIG, b, 1_700_000_005, 300), Ok(()));
    assert_eq!(verify(b"whsec-test", SIG, b, 1_700_000_305, 300), Ok(()));
    assert_eq!(
        verify(b"whsec-test", SIG, b, 1_700_000_306, 300),
        Err(SignatureError::OutsideWindow(301)),
        "a replay after the window"
    );
    assert_eq!(
        verify(b"other", SIG, b, 1_700_000_005, 300),
        Err(SignatureError::Mismatch)
    );
    let mut tampered = b.to_vec();
    tampered[20] ^= 1;
    assert_eq!(
        verify(b"whsec-test", SIG, &tampered, 1_700_000_005, 300),
        Err(SignatureError::Mismatch)
    );
    // A moved timestamp breaks the MAC: it is inside what is signed.
    let moved = SIG.replace("t=1700000005", "t=1700000006");
    assert_eq!(
        verify(b"whsec-test", &moved, b, 1_700_000_005, 300),
        Err(SignatureError::Mismatch)
    );
    // Rotation: a second v1 (the new secret's) next to the old one.
    let both = format!("{SIG},v1={}", "00".repeat(32));
    assert_eq!(verify(b"whsec-test", &both, b, 1_700_000_005, 300), Ok(()));
    for bad in [
        "",
        "t=1700000005",
        "v1=00",
        "t=-5,v1=00",
        "t=+5,v1=00",
        "t=1,t=1,v1=00",
        "t=1700000005,v1=zz",
        "garbage",
    ] {
        assert_eq!(
            verify(b"whsec-test", bad, b, 1_700_000_005, 300),
            Err(SignatureError::Malformed),
            "{bad:?}"
        );
    }
    let long = format!("{SIG},{}", "x=1,".repeat(300));
    assert_eq!(
        verify(b"whsec-test", &long, b, 1_700_000_005, 300),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn syslog_record_is_byte_exact_rfc5424() {
    let n = notice(&opened(), Change::Opened);
    let line = rfc5424(&n, &origin(), 1_700_000_005);
    let expected = concat!(
        "<35>1 2023-11-14T22:13:25Z hub.example ironroot - alert-opened [ironroot@32473 ",
        r#"id="al-1" delivery="d-1" source="trust" subject="host/h1" kind="trust-lost" "#,
        r#"severity="high" state="open" count="1" remediation="taint" change="opened"] "#,
        "host node-1 lost trust: pcr 7 mismatch"
    );
    assert_eq!(line, expected);
    let framed = octet_frame(&line);
    assert_eq!(
        framed,
        format!("{} {expected}", expected.len()).into_bytes()
    );
}

#[test]
fn syslog_pri_follows_severity_and_a_resolution_is_informational() {
    let mut a = opened();
    for (sev, pri) in [
        (Severity::Critical, 34),
        (Severity::High, 35),
        (Severity::Medium, 36),
        (Severity::Unknown, 36),
        (Severity::Low, 37),
        (Severity::Info, 38),
    ] {
        a.severity = sev;
        let line = rfc5424(&notice(&a, Change::Opened), &origin(), 0);
        assert!(
            line.starts_with(&format!("<{pri}>1 1970-01-01T00:00:00Z ")),
            "{line}"
        );
    }
    let line = rfc5424(&notice(&a, Change::Resolved), &origin(), 0);
    assert!(line.starts_with("<38>1 "), "{line}");
    let odd = Origin {
        facility: 200,
        hostname: "".into(),
    };
    let line = rfc5424(&notice(&a, Change::Opened), &odd, 0);
    assert!(
        line.starts_with("<38>1 1970-01-01T00:00:00Z - ironroot - alert-opened ["),
        "a facility out of range is the default one; an empty hostname NILVALUE: {line}"
    );
}

#[test]
fn syslog_escapes_hostile_values_and_keeps_one_line() {
    let mut a = opened();
    a.title = "evil\n<13>1 2020-01-01T00:00:00Z forged".into();
    a.details = "x\r\ny\u{0}z".into();
    let mut n = notice(&a, Change::Opened);
    n.alert.subject = r#"host/"]\ [x@1 y="z"]"#.into();
    let o = Origin {
        facility: 4,
        hostname: "bad host\nname".into(),
    };
    let line = rfc5424(&n, &o, 0);
    assert!(!line.contains(['\n', '\r', '\0']), "{line:?}");
    assert!(
        line.contains(r#" subject="host/\"\]\\ [x@1 y=\"z\"\]" "#),
        "{line}"
    );
    assert!(line.contains(" bad_host_name ironroot "), "{line}");
    assert!(
        line.ends_with("evil <13>1 2020-01-01T00:00:00Z forged: x  y z"),
        "{line}"
    );
    let long = "é".repeat(1000);
    assert_eq!(crate::syslog::escape_param_value(&long).len(), 512);
    n.alert.title = long.clone();
    n.alert.details.clear();
    let line = rfc5424(&n, &origin(), 0);
    assert!(
        line.ends_with(&"é".repeat(512)),
        "MSG is cut at a character boundary"
    );
}

#[test]
fn cef_event_is_byte_exact() {
    let n = notice(&opened(), Change::Opened);
    assert_eq!(
        cef::cef(&n, "0.1.0"),
        concat!(
            "CEF:0|ironroot|ironroot|0.1.0|trust:trust-lost|host node-1 lost trust|8|",
            "rt=1700000000000 externalId=al-1 cat=opened cnt=1 act=taint cs1Label=subject ",
            "cs1=host/h1 cs2Label=deliveryId cs2=d-1 cs3Label=state cs3=open ",
            "cs4Label=severity cs4=high msg=pcr 7 mismatch"
        )
    );
    for (sev, c) in [
        (Severity::Info, 1),
        (Severity::Low, 3),
        (Severity::Medium, 5),
        (Severity::Unknown, 5),
        (Severity::High, 8),
        (Severity::Critical, 10),
    ] {
        assert_eq!(cef::cef_severity(sev), c);
    }
}

#[test]
fn cef_escapes_pipes_backslashes_equals_and_newlines() {
    let mut a = opened();
    a.title = "a|b\\c=d\ne".into();
    a.details = "x=y\\z\r\nw|v".into();
    let mut n = notice(&a, Change::Opened);
    n.alert.subject = "k=v cs2=forged".into();
    let line = cef::cef(&n, "1|2");
    assert!(!line.contains(['\n', '\r']), "{line:?}");
    assert!(
        line.starts_with(r"CEF:0|ironroot|ironroot|1\|2|trust:trust-lost|a\|b\\c=d e|8|"),
        "{line}"
    );
    assert!(line.contains(r"cs1=k\=v cs2\=forged cs2Label"), "{line}");
    assert!(line.ends_with(r"msg=x\=y\\z\r\nw|v"), "{line}");
}
