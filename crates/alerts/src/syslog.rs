//! RFC 5424 syslog messages for alerts, and RFC 6587 octet-counting framing for TCP.
//!
//! `<PRI>1 TIMESTAMP HOSTNAME ironroot - MSGID [ironroot@32473 …] MSG`. The SD-ID's
//! enterprise number 32473 is the one RFC 5612 reserves for documentation: ironroot has
//! none of its own, and receivers match the SD-ID as a string.
//!
//! Hostile text (titles, subjects and details come from nodes' reports and cluster
//! objects) cannot forge a second record: PARAM-VALUEs escape `"`, `\` and `]`
//! (RFC 5424 §6.3.3), and control characters in values and MSG become spaces, so a
//! receiver that writes one line per record still writes one line.

use crate::record::{notice_severity, Notice};
use ironroot_severity::Severity;

/// The APP-NAME of every record.
pub const APP_NAME: &str = "ironroot";
/// The SD-ID of the alert's structured data.
pub const SD_ID: &str = "ironroot@32473";
/// The longest PARAM-VALUE, in bytes (longer ones are cut at a character boundary).
pub const MAX_PARAM_VALUE: usize = 512;
/// The longest MSG, in bytes: within the 2048 octets RFC 5424 §6.1 says receivers
/// should accept, with the header and structured data.
pub const MAX_MSG: usize = 1024;

/// RFC 5424 facility `security/authorization` (4): alerts are security messages.
pub const DEFAULT_FACILITY: u8 = 4;

/// The syslog severity (RFC 5424 §6.2.1) of an alert's severity. Unknown is not
/// harmless: it is a warning, like medium.
pub const fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium | Severity::Unknown => 4,
        Severity::Low => 5,
        Severity::Info => 6,
    }
}

/// Who is sending: the facility (0..=23, else the default) and the HOSTNAME field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub facility: u8,
    pub hostname: String,
}

impl Origin {
    /// PRI: facility × 8 + severity.
    fn pri(&self, s: Severity) -> u16 {
        let facility = if self.facility <= 23 {
            self.facility
        } else {
            DEFAULT_FACILITY
        };
        u16::from(facility) * 8 + u16::from(syslog_severity(s))
    }
}

/// A header field (HOSTNAME, MSGID): printable US-ASCII without spaces, at most `max`
/// octets; anything else becomes `-`'s neighbour `_`, and an empty one NILVALUE.
fn header_field(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .take(max)
        .collect();
    if out.is_empty() {
        "-".into()
    } else {
        out
    }
}

/// `s` cut to at most `max` bytes at a character boundary, control characters as spaces.
pub(crate) fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// A PARAM-VALUE (RFC 5424 §6.3.3): `"`, `\` and `]` escaped with a backslash.
pub fn escape_param_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in clean(s, MAX_PARAM_VALUE).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The record's header up to and including MSGID, and a trailing space.
fn header(origin: &Origin, severity: Severity, at: u64, msgid: &str) -> String {
    format!(
        "<{}>1 {} {} {APP_NAME} - {} ",
        origin.pri(severity),
        ironroot_timestamp::rfc3339::format(at),
        header_field(&origin.hostname, 255),
        header_field(msgid, 32),
    )
}

/// The notice as an RFC 5424 record sent at `at`: MSGID `alert-<change>`, the alert in
/// structured data, its title (then details) as MSG. No trailing newline.
pub fn rfc5424(notice: &Notice, origin: &Origin, at: u64) -> String {
    let a = &notice.alert;
    let mut line = header(
        origin,
        notice_severity(notice),
        at,
        &format!("alert-{}", notice.change.as_str()),
    );
    line.push('[');
    line.push_str(SD_ID);
    let count = a.count.to_string();
    let params: [(&str, &str); 10] = [
        ("id", &a.id),
        ("delivery", &notice.delivery_id),
        ("source", &a.source),
        ("subject", &a.subject),
        ("kind", &a.kind),
        ("severity", a.severity.name()),
        ("state", &a.state),
        ("count", &count),
        ("remediation", a.remediation.as_str()),
        ("change", notice.change.as_str()),
    ];
    for (name, value) in params {
        line.push_str(&format!(" {name}=\"{}\"", escape_param_value(value)));
    }
    line.push_str("] ");
    let msg = if a.details.is_empty() {
        a.title.clone()
    } else {
        format!("{}: {}", a.title, a.details)
    };
    line.push_str(&clean(&msg, MAX_MSG));
    line
}

/// A record with no structured data and `msg` as MSG (how CEF travels over syslog).
pub fn rfc5424_plain(
    origin: &Origin,
    severity: Severity,
    at: u64,
    msgid: &str,
    msg: &str,
) -> String {
    let mut line = header(origin, severity, at, msgid);
    line.push_str("- ");
    line.push_str(msg);
    line
}

/// RFC 6587 §3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`.
pub fn octet_frame(record: &str) -> Vec<u8> {
    let mut out = format!("{} ", record.len()).into_bytes();
    out.extend_from_slice(record.as_bytes());
    out
}
