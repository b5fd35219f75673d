//! Flavor groups: which flavors must match, and how often their hosts attest. Hosts
//! join the default group at enrollment and are moved by an administrator.

use crate::admin::find_host;
use crate::attest::load_group;
use crate::error::{ApiJson, ServiceError};
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
    _principal: crate::identity::Principal,
) -> Result<Json<Vec<FlavorGroup>>, ServiceError> {
    let groups = st
        .store
        .groups()
        .await?
        .into_iter()
        .map(|(_, j)| serde_json::from_str(&j).map_err(|e| ServiceError::Internal(e.to_string())))
        .collect::<Result<_, _>>()?;
    Ok(Json(groups))
}

/// `POST /v1/flavor-groups`: creates or replaces a group. A group that could never
/// require a flavor (no policy, or every policy REQUIRED_IF_DEFINED) is refused: holding
/// no flavors, it would check nothing.
pub(crate) async fn put_group(
    State(st): State<Arc<AppState>>,
    _principal: crate::identity::Principal,
    ApiJson(g): ApiJson<FlavorGroup>,
) -> Result<Json<FlavorGroup>, ServiceError> {
    check_group(&g)?;
    let json = serde_json::to_string(&g).map_err(|e| ServiceError::Internal(e.to_string()))?;
    st.store.upsert_group(&g.name, &json).await?;
    st.flavor_cache.invalidate();
    Ok(Json(g))
}

/// `PUT /v1/hosts/{id}/group`: moves a host into an existing group. The host's next
/// attestation is judged by that group's flavors and schedule.
pub(crate) async fn assign(
    State(st): State<Arc<AppState>>,
    principal: crate::identity::Principal,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AssignGroup>,
) -> Result<Json<serde_json::Value>, ServiceError> {
    let host = find_host(&st, &principal, &id).await?;
    load_group(&st, &req.flavor_group).await?;
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
