//! Alerts and their sinks on the wire: `GET /v1/alerts`, `POST /v1/alerts/{id}/ack|resolve`,
//! `GET /v1/sinks`, `PUT|DELETE /v1/sinks/{name}` (docs/alerts.md). An alert's outside view
//! is [`AlertRecord`], the same one a webhook body carries (`ironroot-alerts`).

/// The platform's one severity scale, as alerts and sinks carry it.
pub use ironroot_alerts::Severity;
pub use ironroot_alerts::{AlertRecord, Change as AlertChange, Notice as AlertNotice, Remediation};
use serde::{Deserialize, Serialize};

/// A page of alerts, most recently seen first; `next` is the `after` of the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertList {
    pub alerts: Vec<AlertRecord>,
    pub next: Option<String>,
}

/// `POST /v1/alerts/{id}/ack` and `/resolve`: who is doing it (recorded on the alert).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertAction {
    pub by: String,
}

/// How a syslog sink writes each alert: RFC 5424 with structured data, or CEF as MSG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    #[default]
    Rfc5424,
    Cef,
}

/// A webhook: HTTPS POST of the signed JSON body (plain http only to a loopback address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSink {
    pub url: String,
    /// The HMAC-SHA256 key (at least 16 bytes). Required in a PUT; never sent back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The receiver's CA (PEM); the system's roots when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
}

/// Syslog over TCP with TLS (RFC 5425 transport, RFC 6587 octet-counting framing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogSink {
    /// `host:port` of the receiver.
    pub address: String,
    /// The name its certificate is checked against; the host of `address` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The receiver's CA (PEM): the only trust anchor of this connection.
    pub ca_pem: String,
    #[serde(default)]
    pub format: SyslogFormat,
    /// RFC 5424 facility, 0..=23; 4 (security/authorization) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<u8>,
    /// The HOSTNAME field; the service's first TLS name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
}

/// Where alerts go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SinkSpec {
    Webhook(WebhookSink),
    Syslog(SyslogSink),
}

impl SinkSpec {
    /// The lowest severity this sink hears of (resolutions are always sent).
    pub fn min_severity(&self) -> Option<Severity> {
        match self {
            SinkSpec::Webhook(w) => w.min_severity,
            SinkSpec::Syslog(s) => s.min_severity,
        }
    }
}

/// A configured sink as `GET /v1/sinks` shows it: never its secret, only whether it has one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkInfo {
    pub name: String,
    pub spec: SinkSpec,
    pub secret_set: bool,
    /// Notices waiting in the outbox for this sink.
    pub pending: u64,
    /// The last delivery error, if the oldest pending notice has failed at least once.
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_are_tagged_and_unknown_fields_refused() {
        let w: SinkSpec = serde_json::from_str(
            r#"{"type":"webhook","url":"https://siem.example/hook","secret":"0123456789abcdef"}"#,
        )
        .unwrap();
        assert!(matches!(&w, SinkSpec::Webhook(h) if h.secret.is_some()));
        let s: SinkSpec = serde_json::from_str(
            r#"{"type":"syslog","address":"127.0.0.1:6514","ca_pem":"x","format":"cef","min_severity":"high"}"#,
        )
        .unwrap();
        assert_eq!(s.min_severity(), Some(Severity::High));
        for bad in [
            r#"{"type":"webhook","url":"u","secret":"s","sekret":"typo"}"#,
            r#"{"type":"email","to":"x"}"#,
            r#"{"type":"syslog","address":"a","ca_pem":"x","format":"json"}"#,
        ] {
            assert!(serde_json::from_str::<SinkSpec>(bad).is_err(), "{bad}");
        }
    }
}
