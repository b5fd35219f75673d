//! Organisations over HTTPS: for every route that names an organisation's object, a
//! credential of the other organisation (even its administrator) finds nothing, and
//! changes nothing; lists hold only the caller's own; tokens are hashed, expire and are
//! revoked; the bootstrap token's modes.

use super::rules::RULES;
use super::tests::World;
use ironroot_api::Role;
use serde_json::{json, Value};

/// Blue's objects, by the route parameter that names them.
struct Blue {
    host: String,
    key: String,
    cluster: String,
    token_id: String,
    report: Option<String>,
}

async fn blue_objects(w: &World) -> Blue {
    let key_admin = w.token("blue", Role::KeyAdmin);
    let key = w
        .ok(
            &key_admin,
            "POST",
            "/v1/keys",
            json!({ "name": "k-blue", "policy": { "any_trusted_node": true } }),
        )
        .await;
    let (_, csr) = ironroot_client::new_key_and_csr("blue-cluster").unwrap();
    let cluster = w
        .ok(
            &w.token("blue", Role::Operator),
            "POST",
            "/v1/clusters",
            json!({ "name": "blue-prod", "csr_pem": csr }),
        )
        .await;
    let tokens = w
        .ok(
            &w.token("blue", Role::OrgAdmin),
            "GET",
            "/v1/tokens",
            Value::Null,
        )
        .await;
    Blue {
        host: "h-blue".into(),
        key: key["key_id"].as_str().unwrap().into(),
        cluster: cluster["id"].as_str().unwrap().into(),
        token_id: tokens[0]["id"].as_str().unwrap().into(),
        report: None,
    }
}

/// The route's path naming blue's object, when the route names an organisation's object.
fn at_blue(path: &str, b: &Blue) -> Option<String> {
    let p = if path.starts_with("/v1/hosts/{id}") {
        path.replace("{id}", &b.host)
    } else if path.starts_with("/v1/nodes/{host_id}") {
        path.replace("{host_id}", &b.host)
    } else if path.starts_with("/v1/keys/{id}") {
        path.replace("{id}", &b.key)
    } else if path == "/v1/clusters/{id}" {
        path.replace("{id}", &b.cluster)
    } else if path == "/v1/tokens/{id}" {
        path.replace("{id}", &b.token_id)
    } else if path == "/v1/reports/{id}" {
        path.replace("{id}", b.report.as_deref()?)
    } else {
        return None;
    };
    Some(p)
}

/// A body that parses, so that only the organisation can refuse the call.
fn body_of(path: &str) -> Value {
    match path {
        "/v1/hosts/{id}/group" => json!({ "flavor_group": "automatic" }),
        "/v1/hosts/{id}/tags" => json!({ "tags": { "region": "eu" } }),
        "/v1/hosts/{id}/node" => json!({ "node": "worker-9" }),
        "/v1/keys/{id}/wrap" => json!({ "plaintext": "AAAA" }),
        _ => json!({}),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_of_one_organisation_is_visible_or_changeable_from_another() {
    let w = World::start().await;
    let blue = blue_objects(&w).await;
    let mut checked = 0;
    let mut wrong = Vec::new();
    for rule in RULES {
        let Some(path) = at_blue(rule.path, &blue) else {
            continue;
        };
        // Red's most powerful role that the route allows, so that only the organisation
        // can be why it fails.
        for role in [Role::OrgAdmin, Role::Operator, Role::Build] {
            if !super::rules::role_may(role, rule.needs) {
                continue;
            }
            let (status, body) = w
                .call(
                    &w.token("red", role),
                    rule.method,
                    &path,
                    body_of(rule.path),
                )
                .await;
            checked += 1;
            if status != 404 {
                wrong.push(format!(
                    "red {role}: {} {path} -> {status} {body}",
                    rule.method
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "red reached blue:\n{}", wrong.join("\n"));
    assert!(checked >= 20, "{checked} calls");
    // Blue's objects are all still there, for blue.
    let blue_admin = w.token("blue", Role::OrgAdmin);
    for path in [
        format!("/v1/hosts/{}", blue.host),
        format!("/v1/keys/{}", blue.key),
    ] {
        w.ok(&blue_admin, "GET", &path, Value::Null).await;
    }
    let clusters = w.ok(&blue_admin, "GET", "/v1/clusters", Value::Null).await;
    assert_eq!(clusters["clusters"][0]["id"], blue.cluster.as_str());
    let blue_token = w.token("blue", Role::Viewer);
    w.ok(&blue_token, "GET", "/v1/whoami", Value::Null).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_hold_only_the_callers_organisation() {
    let w = World::start().await;
    let _blue = blue_objects(&w).await;
    let ids = |v: &Value, field: &str| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x[field].as_str().unwrap().to_owned())
            .collect()
    };
    let red = w.token("red", Role::OrgAdmin);
    let hosts = w.ok(&red, "GET", "/v1/hosts", Value::Null).await;
    assert_eq!(ids(&hosts, "host_id"), ["h-red"]);
    let all = w.ok(&w.boot, "GET", "/v1/hosts", Value::Null).await;
    assert_eq!(
        ids(&all, "host_id").len(),
        2,
        "the bootstrap token sees every organisation"
    );
    assert!(w
        .ok(&red, "GET", "/v1/keys", Value::Null)
        .await
        .as_array()
        .unwrap()
        .is_empty());
    let clusters = w.ok(&red, "GET", "/v1/clusters", Value::Null).await;
    assert!(clusters["clusters"].as_array().unwrap().is_empty());
    let tokens = w.ok(&red, "GET", "/v1/tokens", Value::Null).await;
    assert!(tokens
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["organisation"] == "red"));
    assert_eq!(tokens.as_array().unwrap().len(), Role::ALL.len());
    let me = w.ok(&red, "GET", "/v1/whoami", Value::Null).await;
    assert_eq!(
        (me["organisation"].as_str(), me["role"].as_str()),
        (Some("red"), Some("org-admin"))
    );
    // An administrator makes tokens in its own organisation only.
    let body =
        json!({ "name": "x", "role": "viewer", "organisation": "blue", "lifetime_secs": 60 });
    assert_eq!(w.call(&red, "POST", "/v1/tokens", body).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_refused_once_revoked_or_expired_or_altered() {
    let w = World::start().await;
    let admin = w.token("red", Role::OrgAdmin);
    let issue = |lifetime: u64| json!({ "name": "ci", "role": "build", "lifetime_secs": lifetime });
    let t = w.ok(&admin, "POST", "/v1/tokens", issue(3600)).await;
    let token = t["token"].as_str().unwrap().to_owned();
    assert_eq!(
        w.call(&token, "GET", "/v1/whoami", Value::Null).await.0,
        200
    );
    // Changing one character of the secret: unknown.
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_eq!(
        w.call(&altered, "GET", "/v1/whoami", Value::Null).await.0,
        401
    );
    let id = t["info"]["id"].as_str().unwrap();
    w.ok(&admin, "DELETE", &format!("/v1/tokens/{id}"), Value::Null)
        .await;
    assert_eq!(
        w.call(&token, "GET", "/v1/whoami", Value::Null).await.0,
        401
    );
    let listed = w.ok(&admin, "GET", "/v1/tokens", Value::Null).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap();
    assert!(row["revoked_at"].is_u64());
    assert!(row.get("token").is_none() && !row.to_string().contains(&token[20..]));

    let short = w.ok(&admin, "POST", "/v1/tokens", issue(1)).await;
    let short = short["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        w.call(&short, "GET", "/v1/whoami", Value::Null).await.0,
        401
    );
    for bad in [0, 400 * 24 * 3600] {
        assert_eq!(
            w.call(&admin, "POST", "/v1/tokens", issue(bad)).await.0,
            400
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_in_the_audit_trail_with_who_and_why() {
    let w = World::start().await;
    let build = w.token("red", Role::Build);
    let (status, body) = w
        .call(&build, "POST", "/v1/hosts/h-red/tags", json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("build in red"),
        "{body}"
    );
    let (status, _) = w
        .call("irt_0000000000000000_nope", "GET", "/v1/hosts", Value::Null)
        .await;
    assert_eq!(status, 401);
    let size = w
        .ok(
            &w.boot,
            "GET",
            "/v1/audit/entries?start=0&end=0",
            Value::Null,
        )
        .await["size"]
        .as_u64()
        .unwrap();
    let page = w
        .ok(
            &w.boot,
            "GET",
            &format!(
                "/v1/audit/entries?start={}&end={size}",
                size.saturating_sub(10)
            ),
            Value::Null,
        )
        .await;
    let entries = page["entries"].as_array().unwrap();
    let denied: Vec<&Value> = entries
        .iter()
        .filter(|e| e["kind"] == "access.denied")
        .collect();
    assert!(
        denied
            .iter()
            .any(|e| e["actor"].as_str().unwrap().starts_with("token/")
                && e["body"]["route"] == "/v1/hosts/{id}/tags"
                && e["body"]["organisation"] == "red"),
        "{denied:?}"
    );
    assert!(
        denied
            .iter()
            .any(|e| e["actor"] == "anonymous" && e["body"]["reason"] == "unknown token"),
        "{denied:?}"
    );
    // No secret in the trail.
    assert!(!page.to_string().contains(&build[21..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platforms_auditors_read_the_whole_audit_trail_and_others_their_own() {
    let w = World::start().await;
    let body = json!({ "name": "platform-audit", "role": "auditor", "lifetime_secs": 600 });
    let issued = w.ok(&w.boot, "POST", "/v1/tokens", body).await;
    assert_eq!(issued["info"]["organisation"], "default");
    let platform = issued["token"].as_str().unwrap();
    let path = "/v1/audit/entries?start=0&end=10";
    let page = w.ok(platform, "GET", path, Value::Null).await;
    let indexes: Vec<u64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, (0..10).collect::<Vec<_>>());
    assert!(page.get("organisation").is_none(), "{page}");
    let red = w
        .ok(&w.token("red", Role::Auditor), "GET", path, Value::Null)
        .await;
    assert_eq!(red["organisation"], "red");
    assert!(red["entries"].as_array().unwrap().len() < 10, "{red}");
}
