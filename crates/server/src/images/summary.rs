//! `GET /v1/images/{digest}/summary`: what the stored inventory of the image with this
//! manifest digest last matched (on submission or in the service's own rescan) and when,
//! for the policy "image scanned under a severity threshold" in the webhook and the
//! background audit. Open to the administrator and to registered clusters (their
//! controllers ask for each pod's images), and only for an image the caller's
//! organisation submitted (a cluster's is its owner's): any other reads as unknown.
//!
//! Never "clean" by default: an image never matched (submitted before the service had a
//! database) or whose match time is not recorded answers 404, as an unknown one does.

use super::{enabled, on_store_thread};
use crate::error::ServiceError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use ironroot_api::ImageScanSummary;
use std::sync::Arc;

/// Whether `digest` is `sha256:` and 64 lowercase hex digits, the only manifest digests
/// inventories are kept under (the same rule as `ironroot_oci::model::sha256_hex`, which
/// the service does not link: it never talks to a registry).
pub(crate) fn is_manifest_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Why an image nobody (that the caller may see) submitted is not found.
const UNKNOWN: &str = "no inventory of it is stored";

pub(crate) async fn summary(
    State(st): State<Arc<AppState>>,
    p: crate::identity::Principal,
    Path(digest): Path<String>,
) -> Result<Json<ImageScanSummary>, ServiceError> {
    if !is_manifest_digest(&digest) {
        return Err(ServiceError::BadRequest(
            "not a manifest digest (sha256: and 64 lowercase hex digits)".into(),
        ));
    }
    let images = enabled(&st)?;
    images.claim_unsubmitted(&st.store).await?;
    let not_found = |why: &str| ServiceError::NotFound(format!("a scan of image {digest} ({why})"));
    // Another organisation's image answers exactly as one nobody submitted.
    if !super::orgs::may_see(&st, &p, &digest).await? {
        return Err(not_found(UNKNOWN));
    }
    let (store, key) = (images.store.clone(), digest.clone());
    let stored =
        on_store_thread(move |rt| rt.block_on(ironroot_inventory::stored_scan(&store, &key)))
            .await
            .map_err(ServiceError::Internal)?;
    let Some(stored) = stored else {
        return Err(not_found(UNKNOWN));
    };
    if stored.generation == 0 {
        return Err(not_found(
            "its inventory was never matched against a database",
        ));
    }
    // The latest match: the submission's, or the rescan at the generation it now has
    // (every rescan matches every stored inventory).
    let store = images.store.clone();
    let rescans = on_store_thread(move |rt| {
        rt.block_on(ironroot_inventory::recent_rescans(
            &store,
            super::KEEP_RESCANS,
        ))
    })
    .await
    .map_err(ServiceError::Internal)?;
    let rescanned_at = rescans
        .iter()
        .find(|r| r.generation == stored.generation)
        .map(|r| r.finished_at);
    let Some(scanned_at) = stored.matched_at.max(rescanned_at) else {
        return Err(not_found("the time of its latest match is not recorded"));
    };
    Ok(Json(ImageScanSummary {
        digest,
        highest_unfixed: stored.highest,
        findings: stored.findings,
        scanned_at,
        generation: stored.generation,
    }))
}

#[cfg(test)]
mod tests {
    use super::is_manifest_digest;

    #[test]
    fn only_plain_lowercase_sha256_digests_are_looked_up() {
        assert!(is_manifest_digest(&format!("sha256:{}", "0a".repeat(32))));
        for bad in [
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("sha256:{}", "a".repeat(65)),
            format!("sha512:{}", "a".repeat(64)),
            format!("sha256:../{}", "a".repeat(61)),
            "sha256:".into(),
            String::new(),
        ] {
            assert!(!is_manifest_digest(&bad), "{bad}");
        }
    }
}
