//! The role table against what each role is for, written out independently of
//! `role_may`'s match: who may write each part, who reads the audit trail, and the whole
//! of what `build` may do (issue 15: a build host's key provider must not tag hosts or
//! change flavors).

use super::rules::{role_may, rule, Access, Area, Permission, RULES};
use ironroot_api::Role;
use std::collections::BTreeSet;

fn holders(p: Permission) -> BTreeSet<&'static str> {
    Role::ALL
        .into_iter()
        .filter(|r| role_may(*r, p))
        .map(Role::as_str)
        .collect()
}

fn set(names: &[&'static str]) -> BTreeSet<&'static str> {
    names.iter().copied().collect()
}

#[test]
fn each_part_is_written_by_the_roles_it_belongs_to() {
    use Access::Write;
    let expect: &[(Area, &[&str])] = &[
        (Area::Hosts, &["operator", "org-admin"]),
        (Area::Flavors, &["operator", "org-admin"]),
        (Area::Clusters, &["operator", "org-admin"]),
        (Area::Policies, &["security-admin", "org-admin"]),
        (Area::Sinks, &["security-admin", "org-admin"]),
        (Area::Alerts, &["operator", "security-admin", "org-admin"]),
        (Area::Images, &["security-admin", "build", "org-admin"]),
        (Area::Keys, &["key-admin", "org-admin"]),
        (Area::KeyUse, &["key-admin", "build", "org-admin"]),
        (Area::Identities, &["org-admin"]),
        (Area::Organisations, &[]),
        (Area::Audit, &["org-admin"]),
    ];
    for (area, roles) in expect {
        assert_eq!(holders(Permission(*area, Write)), set(roles), "{area:?}");
    }
}

#[test]
fn reading_is_shared_but_the_audit_trail_tokens_and_sinks_are_not() {
    use Access::Read;
    let everyone_but_build = &[
        "viewer",
        "operator",
        "security-admin",
        "key-admin",
        "auditor",
        "org-admin",
    ];
    for area in [
        Area::Hosts,
        Area::Flavors,
        Area::Clusters,
        Area::Policies,
        Area::Alerts,
        Area::Releases,
    ] {
        assert_eq!(
            holders(Permission(area, Read)),
            set(everyone_but_build),
            "{area:?}"
        );
    }
    assert_eq!(
        holders(Permission(Area::Audit, Read)),
        set(&["auditor", "org-admin"])
    );
    assert_eq!(
        holders(Permission(Area::Identities, Read)),
        set(&["org-admin"])
    );
    assert_eq!(
        holders(Permission(Area::Sinks, Read)),
        set(&["security-admin", "org-admin"])
    );
    assert!(holders(Permission(Area::Organisations, Read)).is_empty());
    assert_eq!(
        holders(Permission(Area::Itself, Read)).len(),
        Role::ALL.len()
    );
}

#[test]
fn a_build_token_wraps_and_submits_inventories_and_nothing_else() {
    let allowed: BTreeSet<(&str, &str)> = RULES
        .iter()
        .filter(|r| role_may(Role::Build, r.needs))
        .map(|r| (r.method, r.path))
        .collect();
    let expect: BTreeSet<(&str, &str)> = [
        ("GET", "/v1/whoami"),
        ("POST", "/v1/keys/{id}/wrap"),
        ("GET", "/v1/keys/{id}"),
        ("GET", "/v1/keys"),
        ("POST", "/v1/images/inventories"),
        ("GET", "/v1/images/rescans"),
        ("GET", "/v1/images/{digest}/summary"),
    ]
    .into_iter()
    .collect();
    assert_eq!(allowed, expect);
    for (m, p) in [
        ("POST", "/v1/hosts/{id}/tags"),
        ("POST", "/v1/flavors"),
        ("POST", "/v1/keys"),
        ("PUT", "/v1/hosts/{id}/group"),
    ] {
        assert!(!role_may(Role::Build, rule(m, p).unwrap().needs), "{m} {p}");
    }
}

#[test]
fn the_table_names_each_route_once() {
    let mut seen = BTreeSet::new();
    for r in RULES {
        assert!(
            seen.insert((r.method, r.path)),
            "{} {} twice",
            r.method,
            r.path
        );
    }
}
