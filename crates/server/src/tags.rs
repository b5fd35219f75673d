//! Asset tags (brief R3): an administrator tags a host; the service issues a tag
//! certificate bound to the host's EK and signed by its tag key; the node provisions the
//! certificate's digest into its TPM and folds it into every quote; an ASSET_TAG flavor
//! holds the host to that digest. Only tags the quote covered appear in trust reports
//! and count for key release.

use crate::admin::{find_host, flavor_rows};
use crate::agent::enrolled_host;
use crate::error::{ApiJson, ServiceError};
use crate::store::{HostRow, TagRow};
use crate::tls::PeerIdentity;
use crate::{now, AppState};
use axum::extract::{Path, State};
use axum::{Extension, Json};
use ironroot_api::{IssuedTag, TagCertificate, TagRequest};
use ironroot_crypto::{digest, HashAlg, JwkSet};
use ironroot_tpm_wire::Digest;
use ironroot_verifier::{Flavor, FlavorMeta, FlavorPart, Rule};
use std::collections::BTreeMap;
use std::sync::Arc;

const MAX_TAGS: usize = 32;
const MAX_KEY: usize = 64;
const MAX_VALUE: usize = 256;

/// `POST /v1/hosts/{id}/tags`: certifies `tags` for the host, replacing its current tag.
pub(crate) async fn issue(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TagRequest>,
) -> Result<Json<IssuedTag>, ServiceError> {
    check_tags(&req.tags)?;
    let host = find_host(&st, &principal, &id).await?;
    let issued_at = now();
    let cert = TagCertificate {
        serial: uuid::Uuid::new_v4().to_string(),
        host_id: host.host_id.clone(),
        hardware_uuid: host.hardware_uuid.clone(),
        ek_sha256: hex::encode(digest(HashAlg::Sha256, &host.ek_public)),
        tags: req.tags.clone(),
        issued_at,
    };
    let payload = serde_json::to_vec(&cert).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let certificate = st
        .tag_signer
        .sign_compact("ironroot-asset-tag+jws", &payload)
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
    let tag_digest = digest(HashAlg::Sha256, certificate.as_bytes());
    let flavor = Flavor {
        id: uuid::Uuid::new_v4(),
        meta: FlavorMeta {
            label: format!("asset tag {}", cert.serial),
            part: FlavorPart::AssetTag,
            vendor: String::new(),
            description: summary(&req.tags),
            created: issued_at,
            host_id: Some(host.host_id.clone()),
        },
        rules: vec![Rule::AssetTagMatches {
            digest: Digest(tag_digest.clone()),
        }],
    };
    let tags_json =
        serde_json::to_string(&req.tags).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let row = TagRow {
        serial: cert.serial.clone(),
        host_id: host.host_id.clone(),
        certificate,
        digest: hex::encode(&tag_digest),
        tags_json,
        issued_at,
        revoked_at: None,
    };
    let flavor_row = flavor_rows(std::slice::from_ref(&flavor))?
        .pop()
        .ok_or_else(|| ServiceError::Internal("no flavor row".into()))?;
    st.store
        .issue_tag(&row, &flavor_row, &host.flavor_group)
        .await?;
    st.flavor_cache.invalidate();
    st.events.poke();
    tracing::info!(host = %host.hostname, tags = %summary(&req.tags), serial = %row.serial, "asset tag issued");
    Ok(Json(issued(row)?))
}

/// `DELETE /v1/hosts/{id}/tags`: revokes the host's current tag. Its tags stop counting
/// at once: the next report carries none, and no key that requires them is released.
pub(crate) async fn revoke(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let host = find_host(&st, &principal, &id).await?;
    if !st.store.revoke_tag(&host.host_id, now()).await? {
        return Err(ServiceError::NotFound(format!(
            "host {} has no current asset tag",
            host.hostname
        )));
    }
    st.flavor_cache.invalidate();
    st.events.poke();
    tracing::info!(host = %host.hostname, "asset tag revoked");
    Ok(Json(
        serde_json::json!({ "host_id": host.host_id, "revoked": true }),
    ))
}

/// `GET /v1/hosts/{id}/tags`: every tag certificate issued to the host, newest first.
pub(crate) async fn history(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<IssuedTag>>, ServiceError> {
    let host = find_host(&st, &principal, &id).await?;
    let rows = st.store.tags(&host.host_id).await?;
    Ok(Json(
        rows.into_iter().map(issued).collect::<Result<_, _>>()?,
    ))
}

/// `GET /v1/agent/asset-tag`: the calling node's current tag certificate, which it
/// provisions into its TPM.
pub(crate) async fn for_agent(
    State(st): State<Arc<AppState>>,
    Extension(peer): Extension<PeerIdentity>,
) -> Result<Json<IssuedTag>, ServiceError> {
    let host = enrolled_host(&st, &peer).await?;
    let current = st
        .store
        .tags(&host.host_id)
        .await?
        .into_iter()
        .find(|t| t.revoked_at.is_none())
        .ok_or_else(|| ServiceError::NotFound("no asset tag was issued to this host".into()))?;
    Ok(Json(issued(current)?))
}

/// `GET /.well-known/tag-jwks.json`: the key tag certificates are signed with.
pub(crate) async fn jwks(State(st): State<Arc<AppState>>) -> Json<JwkSet> {
    Json(JwkSet {
        keys: vec![st.tag_signer.jwk()],
    })
}

/// The tags a report may carry: the host's current tags, if the quote covered their
/// certificate's digest.
pub(crate) fn verified_tags(host: &HostRow, quoted: Option<&[u8]>) -> BTreeMap<String, String> {
    match (&host.tag_digest, &host.tag_json, quoted) {
        (Some(d), Some(json), Some(q))
            if hex::decode(d).is_ok_and(|d| ironroot_crypto::constant_time_eq(&d, q)) =>
        {
            serde_json::from_str(json).unwrap_or_default()
        }
        _ => BTreeMap::new(),
    }
}

fn issued(row: TagRow) -> Result<IssuedTag, ServiceError> {
    Ok(IssuedTag {
        tags: serde_json::from_str(&row.tags_json)
            .map_err(|e| ServiceError::Internal(format!("stored tags: {e}")))?,
        serial: row.serial,
        host_id: row.host_id,
        certificate: row.certificate,
        digest: row.digest,
        issued_at: row.issued_at,
        revoked_at: row.revoked_at,
    })
}

fn summary(tags: &BTreeMap<String, String>) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Tag keys are short identifiers; values are short printable text without commas
/// (they are shown joined by commas).
pub(crate) fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), ServiceError> {
    let bad = |m: String| Err(ServiceError::BadRequest(m));
    if tags.is_empty() || tags.len() > MAX_TAGS {
        return bad(format!("give 1 to {MAX_TAGS} tags"));
    }
    for (k, v) in tags {
        let key_ok = !k.is_empty()
            && k.len() <= MAX_KEY
            && k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
        if !key_ok {
            return bad(format!(
                "tag name {k:?}: 1 to {MAX_KEY} letters, digits, '-', '_', '.', '/'"
            ));
        }
        let value_ok =
            !v.is_empty() && v.len() <= MAX_VALUE && v.chars().all(|c| !c.is_control() && c != ',');
        if !value_ok {
            return bad(format!(
                "tag {k}: the value must be 1 to {MAX_VALUE} printable characters without ','"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked() {
        let t = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(check_tags(&t("region", "EU")).is_ok());
        assert!(check_tags(&t("owner/team", "payments-1")).is_ok());
        assert!(check_tags(&BTreeMap::new()).is_err());
        assert!(check_tags(&t("", "EU")).is_err());
        assert!(check_tags(&t("re gion", "EU")).is_err());
        assert!(check_tags(&t("region", "")).is_err());
        assert!(check_tags(&t("region", "EU,US")).is_err());
        assert!(check_tags(&t("region", "E\nU")).is_err());
    }
}
