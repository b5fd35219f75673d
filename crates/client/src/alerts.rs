//! The alert and sink routes (docs/alerts.md): list, acknowledge and resolve alerts;
//! list, configure and remove sinks.

use crate::routes::path_segment;
use crate::{Client, ClientError};
use ironroot_api::{AlertAction, AlertList, AlertRecord, SinkInfo, SinkSpec};
use serde_json::Value;

/// `GET /v1/alerts`'s filters; `None` leaves one out.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// `open`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    /// The lowest severity shown (`high` shows high and critical).
    pub severity: Option<String>,
    /// Seen at or after (unix seconds).
    pub since: Option<u64>,
    /// Seen at or before (unix seconds).
    pub until: Option<u64>,
    /// What the source starts with (`policy/`: every violation).
    pub source: Option<String>,
    /// What the subject starts with.
    pub subject: Option<String>,
    /// A policy id: its violations.
    pub policy: Option<String>,
    /// A cluster name: alerts about its objects.
    pub cluster: Option<String>,
    /// A namespace (with `cluster`).
    pub namespace: Option<String>,
    /// The previous page's `next`.
    pub after: Option<String>,
    pub limit: Option<u32>,
}

impl AlertQuery {
    fn to_query(&self) -> String {
        let pairs = [
            ("state", self.state.clone()),
            ("severity", self.severity.clone()),
            ("since", self.since.map(|v| v.to_string())),
            ("until", self.until.map(|v| v.to_string())),
            ("source", self.source.clone()),
            ("subject", self.subject.clone()),
            ("policy", self.policy.clone()),
            ("cluster", self.cluster.clone()),
            ("namespace", self.namespace.clone()),
            ("after", self.after.clone()),
            ("limit", self.limit.map(|v| v.to_string())),
        ];
        let parts: Vec<String> = pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", path_segment(v))))
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

impl Client {
    /// `GET /v1/alerts`: one page, most recently seen first.
    pub async fn alerts(&self, q: &AlertQuery) -> Result<AlertList, ClientError> {
        self.get(&format!("/v1/alerts{}", q.to_query())).await
    }

    /// `GET /v1/alerts/{id}`.
    pub async fn alert(&self, id: &str) -> Result<AlertRecord, ClientError> {
        self.get(&format!("/v1/alerts/{}", path_segment(id))).await
    }

    /// `POST /v1/alerts/{id}/ack`, recording `by` as who acknowledged it.
    pub async fn ack_alert(&self, id: &str, by: &str) -> Result<AlertRecord, ClientError> {
        let body = AlertAction { by: by.to_owned() };
        self.post(&format!("/v1/alerts/{}/ack", path_segment(id)), &body)
            .await
    }

    /// `POST /v1/alerts/{id}/resolve`, recording `by` as who resolved it.
    pub async fn resolve_alert(&self, id: &str, by: &str) -> Result<AlertRecord, ClientError> {
        let body = AlertAction { by: by.to_owned() };
        self.post(&format!("/v1/alerts/{}/resolve", path_segment(id)), &body)
            .await
    }

    /// `GET /v1/sinks`: every sink, never its secret.
    pub async fn sinks(&self) -> Result<Vec<SinkInfo>, ClientError> {
        self.get("/v1/sinks").await
    }

    /// `PUT /v1/sinks/{name}`: creates or replaces a sink.
    pub async fn put_sink(&self, name: &str, spec: &SinkSpec) -> Result<SinkInfo, ClientError> {
        self.put(&format!("/v1/sinks/{}", path_segment(name)), spec)
            .await
    }

    /// `DELETE /v1/sinks/{name}`: the sink and what it had queued.
    pub async fn delete_sink(&self, name: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/sinks/{}", path_segment(name)))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_encoded_and_absent_ones_left_out() {
        assert_eq!(AlertQuery::default().to_query(), "");
        let q = AlertQuery {
            state: Some("open".into()),
            severity: Some("high".into()),
            since: Some(5),
            after: Some("7.al-1".into()),
            ..Default::default()
        };
        assert_eq!(
            q.to_query(),
            "?state=open&severity=high&since=5&after=7.al-1"
        );
        let v = AlertQuery {
            source: Some("policy/".into()),
            cluster: Some("eu-1".into()),
            namespace: Some("shop".into()),
            until: Some(9),
            ..Default::default()
        };
        assert_eq!(
            v.to_query(),
            "?until=9&source=policy%2F&cluster=eu-1&namespace=shop"
        );
    }
}
