//! The routes the administrator token opens (see [`Client::admin`]). The image routes
//! (`/v1/images/*`) carry types of `ironroot-inventory`, which this crate does not link
//! (the agent uses it too); they go through [`Client::get`] and [`Client::post`].

use super::path_segment;
use crate::{Client, ClientError};
use ironroot_api::{
    AssignGroup, BindNode, CreateKey, FlavorList, FlavorsFromHostRequest, HostSummary,
    ImageScanSummary, IssuedTag, KeyInfo, NodeTrust, NodeTrustList, ReleaseRecord, ReportRecord,
    TagRequest, UnboundNode, WrapRequest, WrappedBlob,
};
use ironroot_verifier::FlavorGroup;
use serde_json::Value;

/// Which reports of a host to list (`GET /v1/hosts/{id}/reports`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportRange {
    /// Created at or after (unix seconds).
    pub from: Option<u64>,
    /// Created at or before (unix seconds).
    pub to: Option<u64>,
    pub limit: Option<u32>,
}

/// `?a=1&b=2` from the pairs that are present, or nothing.
fn query(pairs: &[(&str, Option<String>)]) -> String {
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

impl Client {
    /// `GET /v1/hosts`: every enrolled host with its trust.
    pub async fn hosts(&self) -> Result<Vec<HostSummary>, ClientError> {
        self.get("/v1/hosts").await
    }

    /// `GET /v1/hosts/{id}`, by host id or hostname.
    pub async fn host(&self, host: &str) -> Result<HostSummary, ClientError> {
        self.get(&format!("/v1/hosts/{}", path_segment(host))).await
    }

    /// `DELETE /v1/hosts/{id}`: the host, its reports, tags and trust state.
    pub async fn delete_host(&self, host_id: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/hosts/{}", path_segment(host_id)))
            .await
    }

    /// `GET /v1/hosts/{id}/reports`, newest first.
    pub async fn host_reports(
        &self,
        host: &str,
        range: ReportRange,
    ) -> Result<Vec<ReportRecord>, ClientError> {
        let q = query(&[
            ("limit", range.limit.map(|v| v.to_string())),
            ("from", range.from.map(|v| v.to_string())),
            ("to", range.to.map(|v| v.to_string())),
        ]);
        self.get(&format!("/v1/hosts/{}/reports{q}", path_segment(host)))
            .await
    }

    /// `GET /v1/reports/{id}`.
    pub async fn report(&self, report_id: &str) -> Result<ReportRecord, ClientError> {
        self.get(&format!("/v1/reports/{}", path_segment(report_id)))
            .await
    }

    /// `GET /v1/flavors`, of one group or all.
    pub async fn flavors(&self, group: Option<&str>) -> Result<FlavorList, ClientError> {
        let q = query(&[("group", group.map(str::to_owned))]);
        self.get(&format!("/v1/flavors{q}")).await
    }

    /// `POST /v1/flavors`: imports `list` (into `group`, or the default group).
    pub async fn import_flavors(
        &self,
        group: Option<&str>,
        list: &FlavorList,
    ) -> Result<FlavorList, ClientError> {
        let q = query(&[("group", group.map(str::to_owned))]);
        self.post(&format!("/v1/flavors{q}"), list).await
    }

    /// `POST /v1/flavors/from-host`: flavors taken from a host's latest evidence.
    pub async fn flavors_from_host(
        &self,
        req: &FlavorsFromHostRequest,
    ) -> Result<FlavorList, ClientError> {
        self.post("/v1/flavors/from-host", req).await
    }

    /// `DELETE /v1/flavors/{id}`.
    pub async fn delete_flavor(&self, flavor_id: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/flavors/{}", path_segment(flavor_id)))
            .await
    }

    /// `GET /v1/flavor-groups`.
    pub async fn flavor_groups(&self) -> Result<Vec<FlavorGroup>, ClientError> {
        self.get("/v1/flavor-groups").await
    }

    /// `POST /v1/flavor-groups`: creates or replaces the group.
    pub async fn put_flavor_group(&self, group: &FlavorGroup) -> Result<FlavorGroup, ClientError> {
        self.post("/v1/flavor-groups", group).await
    }

    /// `PUT /v1/hosts/{id}/group`: moves the host to another flavor group.
    pub async fn assign_group(&self, host: &str, req: &AssignGroup) -> Result<Value, ClientError> {
        self.put(&format!("/v1/hosts/{}/group", path_segment(host)), req)
            .await
    }

    /// `GET /v1/hosts/{id}/tags`: every asset tag issued to the host, newest first.
    pub async fn tag_history(&self, host: &str) -> Result<Vec<IssuedTag>, ClientError> {
        self.get(&format!("/v1/hosts/{}/tags", path_segment(host)))
            .await
    }

    /// `POST /v1/hosts/{id}/tags`: issues the host a new asset tag.
    pub async fn issue_tag(&self, host: &str, req: &TagRequest) -> Result<IssuedTag, ClientError> {
        self.post(&format!("/v1/hosts/{}/tags", path_segment(host)), req)
            .await
    }

    /// `DELETE /v1/hosts/{id}/tags`: revokes the host's current asset tag.
    pub async fn revoke_tag(&self, host: &str) -> Result<Value, ClientError> {
        self.delete(&format!("/v1/hosts/{}/tags", path_segment(host)))
            .await
    }

    /// `PUT /v1/hosts/{id}/node`: binds the host (by id or hostname) to the Kubernetes
    /// Node `req` names, replacing its earlier binding; what the controller will publish
    /// on it.
    pub async fn bind_node(&self, host: &str, req: &BindNode) -> Result<NodeTrust, ClientError> {
        self.put(&format!("/v1/hosts/{}/node", path_segment(host)), req)
            .await
    }

    /// `DELETE /v1/hosts/{id}/node`: unbinds the host from its Kubernetes Node.
    pub async fn unbind_node(&self, host: &str) -> Result<UnboundNode, ClientError> {
        self.delete(&format!("/v1/hosts/{}/node", path_segment(host)))
            .await
    }

    /// `GET /v1/nodes`: every host bound to a Kubernetes Node, and the event-log
    /// position to resume the event stream from.
    pub async fn nodes(&self) -> Result<NodeTrustList, ClientError> {
        self.get("/v1/nodes").await
    }

    /// `GET /v1/nodes/{host_id}`: one bound host.
    pub async fn node(&self, host_id: &str) -> Result<NodeTrust, ClientError> {
        self.get(&format!("/v1/nodes/{}", path_segment(host_id)))
            .await
    }

    /// `GET /v1/keys`.
    pub async fn keys(&self) -> Result<Vec<KeyInfo>, ClientError> {
        self.get("/v1/keys").await
    }

    /// `GET /v1/keys/{id}`, by key id or name.
    pub async fn key(&self, key: &str) -> Result<KeyInfo, ClientError> {
        self.get(&format!("/v1/keys/{}", path_segment(key))).await
    }

    /// `GET /v1/images/{digest}/summary` (administrator or cluster): the latest match of
    /// the inventory stored for this manifest digest; `None` (404) when the service has
    /// none, never matched it, or keeps no inventories.
    pub async fn image_scan_summary(
        &self,
        digest: &str,
    ) -> Result<Option<ImageScanSummary>, ClientError> {
        let path = format!("/v1/images/{}/summary", path_segment(digest));
        match self.get(&path).await {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.status().is_some_and(|s| s.0 == 404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /v1/keys`: creates (or imports) a key under its transfer policy.
    pub async fn create_key(&self, req: &CreateKey) -> Result<KeyInfo, ClientError> {
        self.post("/v1/keys", req).await
    }

    /// `POST /v1/keys/{id}/wrap`: seals `req` under the key.
    pub async fn wrap(&self, key_id: &str, req: &WrapRequest) -> Result<WrappedBlob, ClientError> {
        self.post(&format!("/v1/keys/{}/wrap", path_segment(key_id)), req)
            .await
    }

    /// `GET /v1/keys/releases`: the release log, newest first, of one key or all.
    pub async fn releases(
        &self,
        key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ReleaseRecord>, ClientError> {
        let q = query(&[
            ("limit", Some(limit.to_string())),
            ("key", key.map(str::to_owned)),
        ]);
        self.get(&format!("/v1/keys/releases{q}")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_their_order_encode_values_and_drop_absent_pairs() {
        assert_eq!(query(&[("group", None)]), "");
        assert_eq!(
            query(&[
                ("limit", Some("5".into())),
                ("from", None),
                ("key", Some("team/a&b".into()))
            ]),
            "?limit=5&key=team%2Fa%26b"
        );
    }
}
