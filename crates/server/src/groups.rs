//! Flavor groups: which flavors must match, and how often their hosts attest. Hosts
//! join the default group at enrollment and are moved by an administrator.
//!
//! A group belongs to the organisation that created it, and its flavors with it: an
//! organisation lists, changes and fills only its own groups, and a host is moved only
//! into a group of its own organisation, so it is never judged by another's flavors.
//! Another organisation's group reads as not found. The platform's groups (`default`'s,
//! `automatic` first, where hosts enroll) may judge any host: a host handed to an
//! organisation stays in its platform group until it is moved into one of its own.

use crate::admin::find_host;
use crate::attest::load_group;
use crate::error::{ApiJson, ServiceError};
use crate::identity::scope::{only_visible, visible};
use crate::identity::store::ObjectKind;
use crate::identity::{Principal, DEFAULT_ORG};
use crate::store::GroupPut;
use crate::store::HostRow;
use crate::AppState;
use axum::extract::{Path, State};
use axum::Json;
use ironroot_api::AssignGroup;
use ironroot_verifier::FlavorGroup;
use std::sync::Arc;

/// Longest group name; names appear in reports, URLs and logs.
const MAX_NAME: usize = 64;

pub(crate) async fn list_groups(
    State(st): State<Arc<AppState>>,
    principal: Principal,
) -> Result<Json<Vec<FlavorGroup>>, ServiceError> {
    let all = st.store.groups().await?;
    let groups = only_visible(&st, &principal, ObjectKind::Group, all, |(name, _)| name)
        .await?
        .into_iter()
        .map(|(_, j)| serde_json::from_str(&j).map_err(|e| ServiceError::Internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Ok(Json(groups))
}

/// The group `name`, when `p` may see it; not found otherwise, as if it did not exist.
pub(crate) async fn visible_group(
    st: &AppState,
    p: &Principal,
    name: &str,
) -> Result<FlavorGroup, ServiceError> {
    let group = load_group(st, name).await?;
    if visible(st, p, ObjectKind::Group, name).await? {
        Ok(group)
    } else {
        Err(ServiceError::NotFound(format!("flavor group {name}")))
    }
}

/// The group `name` for `host`: visible to `p`, and of the host's organisation or of
/// the platform (`default`, whose groups, `automatic` first, are the baseline any host
/// may be judged by). Only the bootstrap credential sees both sides of a mismatch, so
/// only it is told.
pub(crate) async fn group_for_host(
    st: &AppState,
    p: &Principal,
    host: &HostRow,
    name: &str,
) -> Result<FlavorGroup, ServiceError> {
    let group = visible_group(st, p, name).await?;
    let group_org = st.store.owner(ObjectKind::Group, name).await?;
    let host_org = st.store.owner(ObjectKind::Host, &host.host_id).await?;
    if group_org == DEFAULT_ORG || group_org == host_org {
        Ok(group)
    } else {
        Err(ServiceError::BadRequest(format!(
            "host {} is {host_org}'s and flavor group {name} is {group_org}'s: a host is \
             judged only by its own organisation's groups or the platform's",
            host.hostname
        )))
    }
}

/// `POST /v1/flavor-groups`: creates or replaces a group. A group that could never
/// require a flavor (no policy, or every policy REQUIRED_IF_DEFINED) is refused: holding
/// no flavors, it would check nothing.
///
/// Group names are one namespace for the platform, so a name another organisation holds
/// is refused as taken: that tells the caller the name exists somewhere (the same
/// trade-off as key names), never anything in it.
pub(crate) async fn put_group(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    ApiJson(g): ApiJson<FlavorGroup>,
) -> Result<Json<FlavorGroup>, ServiceError> {
    check_group(&g)?;
    let json = serde_json::to_string(&g).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let put = st
        .store
        .put_group_of(&g.name, &json, principal.org.as_deref())
        .await?;
    if put == GroupPut::Taken {
        return Err(ServiceError::Conflict(format!(
            "the flavor group name {} is taken; choose another",
            g.name
        )));
    }
    st.flavor_cache.invalidate();
    Ok(Json(g))
}

/// `PUT /v1/hosts/{id}/group`: moves a host into an existing group of its organisation.
/// The host's next attestation is judged by that group's flavors and schedule.
pub(crate) async fn assign(
    State(st): State<Arc<AppState>>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignGroup>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let host = find_host(&st, &principal, &id).await?;
    group_for_host(&st, &principal, &host, &req.flavor_group).await?;
    st.store
        .set_host_group(&host.host_id, &req.flavor_group)
        .await?;
    tracing::info!(host = %host.hostname, group = %req.flavor_group, "host moved to another flavor group");
    Ok(Json(serde_json::json!({
        "host_id": host.host_id,
        "flavor_group": req.flavor_group,
    })))
}

/// Everything about a group that can be refused before it is stored.
fn check_group(g: &FlavorGroup) -> Result<(), ServiceError> {
    check_name(&g.name)?;
    let bad = |e: String| ServiceError::BadRequest(format!("group {}: {e}", g.name));
    g.check().map_err(|e| bad(e.to_string()))?;
    if let Some(s) = &g.schedule {
        s.check().map_err(bad)?;
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::BadRequest(format!(
            "a group name is 1 to {MAX_NAME} letters, digits, '-', '_' or '.', not {name:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ironroot_verifier::{FlavorPart, MatchPolicy, MatchType, Required};

    fn group(policies: &[(FlavorPart, Required)]) -> FlavorGroup {
        FlavorGroup {
            name: "lax".into(),
            policies: policies
                .iter()
                .map(|&(part, required)| MatchPolicy {
                    part,
                    match_type: MatchType::AnyOf,
                    required,
                })
                .collect(),
            schedule: None,
        }
    }

    /// The review's finding: a group of REQUIRED_IF_DEFINED policies, holding no
    /// flavors, trusted anything. Such a group is not saved.
    #[test]
    fn a_group_that_can_never_require_a_rule_is_refused_at_put() {
        use FlavorPart as P;
        use Required as R;
        let lax = group(&[
            (P::Platform, R::RequiredIfDefined),
            (P::Os, R::RequiredIfDefined),
        ]);
        match check_group(&lax) {
            Err(ServiceError::BadRequest(m)) => {
                assert!(m.starts_with("group lax: "), "{m}");
                assert!(m.contains("REQUIRED_IF_DEFINED"), "{m}");
                assert!(m.contains("make at least one policy REQUIRED"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check_group(&group(&[])),
            Err(ServiceError::BadRequest(m)) if m.contains("no match policies")
        ));
        assert!(check_group(&group(&[
            (P::Platform, R::Required),
            (P::Os, R::RequiredIfDefined)
        ]))
        .is_ok());
        assert!(check_group(&FlavorGroup::default_group("automatic")).is_ok());
    }

    #[test]
    fn group_names_are_plain() {
        for ok in ["automatic", "eu-west.1", "fast_lane"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "x/y", "caf\u{e9}", &"n".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
