//! ArcSight Common Event Format for SIEMs:
//! `CEF:0|ironroot|ironroot|VERSION|SIGNATURE ID|NAME|SEVERITY|EXTENSION`.
//!
//! Escaping (the CEF implementation standard): in header fields `\` and `|` take a
//! backslash; in extension values `\` and `=` do, and a newline is written `\n` (a
//! carriage return `\r`). Other control characters become spaces, and header fields hold
//! no newline at all, so one event stays one line.

use crate::record::{notice_severity, Notice};
use ironroot_severity::Severity;

/// CEF severity 0..=10. Unknown is not harmless: it rates as medium.
pub const fn cef_severity(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 3,
        Severity::Medium | Severity::Unknown => 5,
        Severity::High => 8,
        Severity::Critical => 10,
    }
}

/// The longest header field or extension value, in bytes.
const MAX_FIELD: usize = 1024;

pub fn escape_header(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::syslog::clean(s, MAX_FIELD).chars() {
        if matches!(c, '\\' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn escape_extension(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut bytes = 0;
    for c in s.chars() {
        let piece = match c {
            '\\' => "\\\\".to_owned(),
            '=' => "\\=".to_owned(),
            '\n' => "\\n".to_owned(),
            '\r' => "\\r".to_owned(),
            c if c.is_control() => " ".to_owned(),
            c => c.to_string(),
        };
        bytes += piece.len();
        if bytes > MAX_FIELD {
            break;
        }
        out.push_str(&piece);
    }
    out
}

/// The notice as one CEF event; `version` is ironroot's version, `at` the send time.
pub fn cef(notice: &Notice, version: &str) -> String {
    let a = &notice.alert;
    let header = [
        "ironroot".to_owned(),
        "ironroot".to_owned(),
        escape_header(version),
        escape_header(&format!("{}:{}", a.source, a.kind)),
        escape_header(&a.title),
    ];
    let ext: [(&str, String); 13] = [
        ("rt", (a.last_seen.saturating_mul(1000)).to_string()),
        ("externalId", a.id.clone()),
        ("cat", notice.change.as_str().to_owned()),
        ("cnt", a.count.to_string()),
        ("act", a.remediation.as_str().to_owned()),
        ("cs1Label", "subject".to_owned()),
        ("cs1", a.subject.clone()),
        ("cs2Label", "deliveryId".to_owned()),
        ("cs2", notice.delivery_id.clone()),
        ("cs3Label", "state".to_owned()),
        ("cs3", a.state.clone()),
        ("cs4Label", "severity".to_owned()),
        ("cs4", a.severity.name().to_owned()),
    ];
    let mut line = format!(
        "CEF:0|{}|{}",
        header.join("|"),
        cef_severity(notice_severity(notice))
    );
    line.push('|');
    let mut first = true;
    for (k, v) in ext
        .iter()
        .chain(std::iter::once(&("msg", a.details.clone())))
    {
        if v.is_empty() {
            continue;
        }
        if !first {
            line.push(' ');
        }
        first = false;
        line.push_str(k);
        line.push('=');
        line.push_str(&escape_extension(v));
    }
    line
}
