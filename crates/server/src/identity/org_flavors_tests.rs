//! Flavors and flavor groups by organisation, over HTTPS: an organisation's groups and
//! their flavors are invisible and unchangeable to another; a host is judged only by its
//! own organisation's groups or the platform's, and is not handed to an organisation
//! while a third one's group judges it.

use super::tests::World;
use ironroot_api::Role;
use ironroot_crypto::HashAlg;
use ironroot_tpm_wire::Digest;
use ironroot_verifier::{Flavor, FlavorGroup, FlavorMeta, FlavorPart, Rule};
use serde_json::{json, Value};

fn group(name: &str) -> Value {
    serde_json::to_value(FlavorGroup::default_group(name)).unwrap()
}

fn flavor(label: &str) -> Flavor {
    Flavor {
        id: uuid::Uuid::new_v4(),
        meta: FlavorMeta {
            label: label.into(),
            part: FlavorPart::Platform,
            vendor: String::new(),
            description: String::new(),
            created: 1,
            host_id: None,
        },
        rules: vec![Rule::PcrMatches {
            bank: HashAlg::Sha256,
            index: 0,
            value: Digest(vec![7; 32]),
        }],
    }
}

/// Blue's group `g-blue` with one flavor, and h-blue moved into it; the flavor's id.
async fn blue_group(w: &World) -> String {
    let op = w.token("blue", Role::Operator);
    w.ok(&op, "POST", "/v1/flavor-groups", group("g-blue"))
        .await;
    let f = flavor("blue-platform");
    let body = json!({ "flavors": [f] });
    w.ok(&op, "POST", "/v1/flavors?group=g-blue", body).await;
    let to = json!({ "flavor_group": "g-blue" });
    w.ok(&op, "PUT", "/v1/hosts/h-blue/group", to).await;
    f.id.to_string()
}

/// The values at `pointer` of each item of a list (or of a flavor list's `flavors`).
fn names(v: &Value, pointer: &str) -> Vec<String> {
    let list = v.get("flavors").unwrap_or(v);
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x.pointer(pointer).unwrap().as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_organisations_groups_and_flavors_are_not_anothers() {
    let w = World::start().await;
    let blue_flavor = blue_group(&w).await;
    let blue = w.token("blue", Role::Viewer);
    let groups = w.ok(&blue, "GET", "/v1/flavor-groups", Value::Null).await;
    assert_eq!(names(&groups, "/name"), ["g-blue"]);
    let flavors = w.ok(&blue, "GET", "/v1/flavors", Value::Null).await;
    assert_eq!(flavors["flavors"][0]["id"], blue_flavor.as_str());

    for role in [Role::OrgAdmin, Role::Operator] {
        let red = w.token("red", role);
        // Lists: nothing of blue's (and not the platform's `automatic` either).
        let groups = w.ok(&red, "GET", "/v1/flavor-groups", Value::Null).await;
        assert!(names(&groups, "/name").is_empty(), "{role}: {groups}");
        let flavors = w.ok(&red, "GET", "/v1/flavors", Value::Null).await;
        assert!(names(&flavors, "/id").is_empty(), "{role}: {flavors}");
        // By name or id: not found, as if it did not exist.
        let f = json!({ "flavors": [flavor("red-into-blue")] });
        let delete = format!("/v1/flavors/{blue_flavor}");
        let to_blue = json!({ "flavor_group": "g-blue" });
        let from_host = json!({ "host_id": "h-red", "label": "x", "flavor_group": "g-blue" });
        for (method, path, body) in [
            ("GET", "/v1/flavors?group=g-blue", Value::Null),
            ("POST", "/v1/flavors?group=g-blue", f),
            ("DELETE", delete.as_str(), Value::Null),
            ("PUT", "/v1/hosts/h-red/group", to_blue),
            ("POST", "/v1/flavors/from-host", from_host),
        ] {
            let (status, body) = w.call(&red, method, path, body).await;
            assert_eq!(status, 404, "{role}: {method} {path}: {body}");
        }
        // A name another organisation holds is taken; what it holds is unchanged.
        let (status, body) = w
            .call(&red, "POST", "/v1/flavor-groups", group("g-blue"))
            .await;
        assert_eq!(status, 409, "{body}");
    }
    let flavors = w
        .ok(&blue, "GET", "/v1/flavors?group=g-blue", Value::Null)
        .await;
    assert_eq!(names(&flavors, "/meta/label"), ["blue-platform"]);
    let host = w.ok(&blue, "GET", "/v1/hosts/h-blue", Value::Null).await;
    assert_eq!(host["flavor_group"], "g-blue");
    // Red's own group is red's alone.
    let red = w.token("red", Role::Operator);
    w.ok(&red, "POST", "/v1/flavor-groups", group("g-red"))
        .await;
    let to = json!({ "flavor_group": "g-red" });
    w.ok(&red, "PUT", "/v1/hosts/h-red/group", to).await;
    let groups = w.ok(&blue, "GET", "/v1/flavor-groups", Value::Null).await;
    assert_eq!(names(&groups, "/name"), ["g-blue"]);
    // The bootstrap token sees them all.
    let all = w.ok(&w.boot, "GET", "/v1/flavor-groups", Value::Null).await;
    assert_eq!(names(&all, "/name"), ["automatic", "g-blue", "g-red"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_is_judged_only_by_its_own_organisations_groups_or_the_platforms() {
    let w = World::start().await;
    blue_group(&w).await;
    // Even the bootstrap token, which sees both, may not judge red's host by blue's group.
    let to_blue = json!({ "flavor_group": "g-blue" });
    let (status, body) = w
        .call(&w.boot, "PUT", "/v1/hosts/h-red/group", to_blue)
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("judged only by"), "{message}");
    // A host in blue's group is not handed to red; back in the platform's group, it is.
    let give = json!({ "id": "red" });
    let (status, body) = w
        .call(&w.boot, "PUT", "/v1/owners/host/h-blue", give.clone())
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("g-blue"),
        "{body}"
    );
    let to_platform = json!({ "flavor_group": "automatic" });
    w.ok(&w.boot, "PUT", "/v1/hosts/h-blue/group", to_platform)
        .await;
    w.ok(&w.boot, "PUT", "/v1/owners/host/h-blue", give).await;
    let red = w.token("red", Role::Viewer);
    let host = w.ok(&red, "GET", "/v1/hosts/h-blue", Value::Null).await;
    assert_eq!(host["flavor_group"], "automatic");
    // Only objects that exist get an owner.
    for path in [
        "/v1/owners/host/no-such-host",
        "/v1/owners/key/no-such-key",
        "/v1/owners/cluster/no-such-cluster",
    ] {
        let (status, body) = w.call(&w.boot, "PUT", path, json!({ "id": "red" })).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
}
