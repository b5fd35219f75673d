//! Organisations on objects: what a caller may see is what its organisation owns
//! (`owners`; an object without a row is `default`'s). Everything of another
//! organisation reads as not found, never as forbidden, so a caller cannot probe for it.
//! The bootstrap credential sees every organisation.

use super::store::ObjectKind;
use super::Principal;
use crate::error::{ApiJson, ServiceError};
use crate::store::StoreError;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use ironroot_api::NewOrganisation;
use std::sync::Arc;

/// Whether `p` may see object `id` of `kind`.
pub(crate) async fn visible(
    st: &AppState,
    p: &Principal,
    kind: ObjectKind,
    id: &str,
) -> Result<bool, StoreError> {
    match &p.org {
        None => Ok(true),
        Some(org) => Ok(st.store.owner(kind, id).await? == *org),
    }
}

/// `Ok(())` when `p` may see `id`, else not found (named `what`).
pub(crate) async fn require_visible(
    st: &AppState,
    p: &Principal,
    kind: ObjectKind,
    id: &str,
    what: &str,
) -> Result<(), ServiceError> {
    if visible(st, p, kind, id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound(what.to_owned()))
    }
}

/// The items of `items` that `p` may see, `id` naming each one's object.
pub(crate) async fn only_visible<T>(
    st: &AppState,
    p: &Principal,
    kind: ObjectKind,
    items: Vec<T>,
    id: impl Fn(&T) -> &str,
) -> Result<Vec<T>, StoreError> {
    let Some(org) = &p.org else {
        return Ok(items);
    };
    let owners = st.store.owners(kind).await?;
    Ok(items
        .into_iter()
        .filter(|t| owners.get(id(t)).map_or(super::DEFAULT_ORG, String::as_str) == org)
        .collect())
}

/// `PUT /v1/owners/{kind}/{id}`: gives an object to an organisation (the platform only:
/// hosts enroll into `default` and are handed to their organisation this way).
pub(crate) async fn set_owner(
    State(st): State<Arc<AppState>>,
    p: Principal,
    Path((kind, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<NewOrganisation>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let kind = match kind.as_str() {
        "host" => ObjectKind::Host,
        "key" => ObjectKind::Key,
        "cluster" => ObjectKind::Cluster,
        other => {
            return Err(ServiceError::BadRequest(format!(
                "objects of kind {other:?} have no owner here: host, key or cluster"
            )))
        }
    };
    if !st.store.organisation_exists(&req.id).await? {
        return Err(ServiceError::NotFound(format!("organisation {}", req.id)));
    }
    let missing = || ServiceError::NotFound(format!("{} {id}", kind.as_str()));
    match kind {
        ObjectKind::Host => {
            let host = st.store.host(&id).await?.ok_or_else(missing)?;
            // A host is judged only by its own organisation's groups or the platform's.
            let group_org = st
                .store
                .owner(ObjectKind::Group, &host.flavor_group)
                .await?;
            if group_org != super::DEFAULT_ORG && group_org != req.id {
                return Err(ServiceError::Conflict(format!(
                    "host {} is in flavor group {} of {group_org}; move it into a group of {} \
                     or of the platform first",
                    host.hostname, host.flavor_group, req.id
                )));
            }
        }
        ObjectKind::Key => {
            // By id only: a name is not an owner's key.
            st.store
                .key(&id)
                .await?
                .filter(|k| k.key_id == id)
                .ok_or_else(missing)?;
        }
        ObjectKind::Cluster => {
            if !st.store.clusters().await?.iter().any(|c| c.id == id) {
                return Err(missing());
            }
        }
        ObjectKind::Group | ObjectKind::Sink => {}
    }
    let entry = super::access::identity_change(
        "owner.changed",
        crate::now(),
        &p.actor,
        format!("{}/{id}", kind.as_str()),
        serde_json::json!({ "kind": kind.as_str(), "id": id, "organisation": req.id }),
    );
    st.store.change_owner(kind, &id, &req.id, entry).await?;
    Ok(Json(
        serde_json::json!({ "kind": kind.as_str(), "id": id, "organisation": req.id }),
    ))
}
