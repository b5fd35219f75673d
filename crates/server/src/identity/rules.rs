//! Who may call what: every route behind the principal gate has one rule here (its
//! method and path template, as the router writes them, and the permission it needs),
//! and every role is a fixed set of permissions. A route without a rule is refused to
//! everyone, the bootstrap credential included, and `tests.rs` fails when the router
//! has a route this table does not name.

use ironroot_api::Role;

/// A part of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Area {
    Hosts,
    Flavors,
    Keys,
    /// Wrapping a layer key with a broker key (image encryption).
    KeyUse,
    /// The key release log: which host got which key, or was refused.
    Releases,
    Images,
    Alerts,
    Sinks,
    Clusters,
    Policies,
    Audit,
    /// API tokens and people of an organisation.
    Identities,
    /// Creating organisations: the platform, above them all.
    Organisations,
    /// Who am I: any authenticated caller.
    Itself,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    Read,
    Write,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Permission(pub Area, pub Access);

/// One route's rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub needs: Permission,
}

const fn r(method: &'static str, path: &'static str, area: Area, access: Access) -> Rule {
    Rule {
        method,
        path,
        needs: Permission(area, access),
    }
}

use Access::{Read, Write};
use Area::*;

/// Every route behind `gate::principal`.
pub(crate) const RULES: &[Rule] = &[
    r("GET", "/v1/whoami", Itself, Read),
    r("GET", "/v1/organisations", Organisations, Read),
    r("POST", "/v1/organisations", Organisations, Write),
    r("GET", "/v1/tokens", Identities, Read),
    r("POST", "/v1/tokens", Identities, Write),
    r("DELETE", "/v1/tokens/{id}", Identities, Write),
    r("GET", "/v1/people", Identities, Read),
    r("PUT", "/v1/people", Identities, Write),
    r("DELETE", "/v1/people/{email}", Identities, Write),
    r("PUT", "/v1/owners/{kind}/{id}", Organisations, Write),
    r("GET", "/v1/hosts", Hosts, Read),
    r("GET", "/v1/hosts/{id}", Hosts, Read),
    r("DELETE", "/v1/hosts/{id}", Hosts, Write),
    r("GET", "/v1/hosts/{id}/reports", Hosts, Read),
    r("GET", "/v1/reports/{id}", Hosts, Read),
    r("GET", "/v1/flavors", Flavors, Read),
    r("POST", "/v1/flavors", Flavors, Write),
    r("POST", "/v1/flavors/from-host", Flavors, Write),
    r("DELETE", "/v1/flavors/{id}", Flavors, Write),
    r("GET", "/v1/flavor-groups", Flavors, Read),
    r("POST", "/v1/flavor-groups", Flavors, Write),
    r("PUT", "/v1/hosts/{id}/group", Hosts, Write),
    r("GET", "/v1/hosts/{id}/tags", Hosts, Read),
    r("POST", "/v1/hosts/{id}/tags", Hosts, Write),
    r("DELETE", "/v1/hosts/{id}/tags", Hosts, Write),
    r("PUT", "/v1/hosts/{id}/node", Hosts, Write),
    r("DELETE", "/v1/hosts/{id}/node", Hosts, Write),
    r("GET", "/v1/keys", Keys, Read),
    r("POST", "/v1/keys", Keys, Write),
    r("GET", "/v1/keys/releases", Releases, Read),
    r("POST", "/v1/keys/{id}/wrap", KeyUse, Write),
    r("POST", "/v1/images/inventories", Images, Write),
    r("GET", "/v1/images/rescans", Images, Read),
    r("GET", "/v1/alerts", Alerts, Read),
    r("GET", "/v1/alerts/{id}", Alerts, Read),
    r("POST", "/v1/alerts/{id}/ack", Alerts, Write),
    r("POST", "/v1/alerts/{id}/resolve", Alerts, Write),
    r("GET", "/v1/clusters", Clusters, Read),
    r("POST", "/v1/clusters", Clusters, Write),
    r("DELETE", "/v1/clusters/{id}", Clusters, Write),
    r("GET", "/v1/policies", Policies, Read),
    r("PUT", "/v1/policies", Policies, Write),
    r("GET", "/v1/policies/versions", Policies, Read),
    r("GET", "/v1/policies/versions/{n}", Policies, Read),
    r("GET", "/v1/compliance", Policies, Read),
    r("GET", "/v1/compliance/history", Policies, Read),
    r("GET", "/v1/sinks", Sinks, Read),
    r("PUT", "/v1/sinks/{name}", Sinks, Write),
    r("DELETE", "/v1/sinks/{name}", Sinks, Write),
    r("GET", "/v1/audit/entries", Audit, Read),
    r("GET", "/v1/audit/proof/inclusion", Audit, Read),
    r("GET", "/v1/audit/proof/consistency", Audit, Read),
    // What a cluster's controller follows too (clusters pass with [`cluster_may`]).
    r("GET", "/v1/nodes", Hosts, Read),
    r("GET", "/v1/nodes/{host_id}", Hosts, Read),
    r("GET", "/v1/keys/{id}", Keys, Read),
    r("GET", "/v1/images/{digest}/summary", Images, Read),
    r("GET", "/v1/events", Hosts, Read),
];

/// The rule of `method` on the route template `path`, if there is one.
pub(crate) fn rule(method: &str, path: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.method == method && r.path == path)
}

/// Whether `role` holds `p`.
pub(crate) fn role_may(role: Role, p: Permission) -> bool {
    let Permission(area, access) = p;
    // What every role but build may read.
    let shared_read = access == Read
        && matches!(
            area,
            Hosts | Flavors | Keys | Releases | Images | Alerts | Clusters | Policies
        );
    match (role, area, access) {
        (_, Itself, Read) => true,
        (_, Organisations, _) => false,
        (Role::OrgAdmin, _, _) => true,
        (Role::Build, KeyUse | Images, Write) => true,
        // The key provider reads a key's metadata to check its policy before wrapping.
        (Role::Build, Images | Keys, Read) => true,
        (Role::Build, _, _) => false,
        _ if shared_read => true,
        (Role::Operator, Hosts | Flavors | Clusters | Alerts, Write) => true,
        (Role::SecurityAdmin, Policies | Images | Alerts | Sinks, _) => true,
        (Role::KeyAdmin, Keys | KeyUse, Write) => true,
        (Role::Auditor, Audit, Read) => true,
        _ => false,
    }
}

/// What a registered cluster's certificate may read besides its own routes: the trust of
/// nodes and the metadata its admission webhook checks.
pub(crate) fn cluster_may(rule: &Rule) -> bool {
    matches!(
        (rule.method, rule.path),
        ("GET", "/v1/nodes")
            | ("GET", "/v1/nodes/{host_id}")
            | ("GET", "/v1/keys/{id}")
            | ("GET", "/v1/images/{digest}/summary")
            | ("GET", "/v1/events")
    )
}

/// What the bootstrap credential may do in its `bootstrap-only` mode: make organisations
/// and their first administrators.
pub(crate) fn bootstrap_only_may(p: Permission) -> bool {
    matches!(p.0, Organisations | Identities | Itself)
}
