//! The audit trail by organisation, over HTTPS: an organisation's auditor reads the
//! entries that concern its organisation and no other's, with the proofs (hashes only)
//! every auditor shares; the platform's auditor reads them all.

use super::tests::World;
use ironroot_api::Role;
use serde_json::{json, Value};

/// Every entry `token` may read, page by page up to the log's size when asked, and the
/// organisation the pages said they were limited to.
async fn read_all(w: &World, token: &str) -> (Vec<Value>, Option<String>) {
    let first = w
        .ok(token, "GET", "/v1/audit/entries?start=0&end=0", Value::Null)
        .await;
    let size = first["size"].as_u64().unwrap();
    let (mut out, mut start) = (Vec::new(), 0);
    while start < size {
        let end = size.min(start + 1000);
        let path = format!("/v1/audit/entries?start={start}&end={end}");
        let page = w.ok(token, "GET", &path, Value::Null).await;
        out.extend(page["entries"].as_array().unwrap().iter().cloned());
        start = end;
    }
    (out, first["organisation"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisations_auditor_reads_its_entries_and_no_others() {
    let w = World::start().await;
    // Each organisation acts: a key created, a token issued, a refusal.
    for org in ["red", "blue"] {
        let body = json!({ "name": format!("k-{org}"), "policy": { "any_trusted_node": true } });
        w.ok(&w.token(org, Role::KeyAdmin), "POST", "/v1/keys", body)
            .await;
        let (status, _) = w
            .call(&w.token(org, Role::Build), "GET", "/v1/hosts", Value::Null)
            .await;
        assert_eq!(status, 403);
    }
    let (red, scope) = read_all(&w, &w.token("red", Role::Auditor)).await;
    assert_eq!(scope.as_deref(), Some("red"));
    let (all, scope) = read_all(&w, &w.boot).await;
    assert_eq!(scope, None, "the bootstrap token reads the whole log");
    assert!(red.len() < all.len(), "{} of {}", red.len(), all.len());

    let text = Value::Array(red.clone()).to_string();
    assert!(!text.contains("blue"), "red's auditor read blue's: {text}");
    let kinds =
        |entries: &[Value], kind: &str| entries.iter().filter(|e| e["kind"] == kind).count();
    // Red's own: its access decisions, allowed and refused, and its tokens.
    assert!(red.iter().any(|e| e["kind"] == "access.denied"
        && e["body"]["organisation"] == "red"
        && e["body"]["route"] == "/v1/hosts"));
    assert!(kinds(&red, "access.allowed") > 0);
    assert!(kinds(&red, "token.created") >= Role::ALL.len());
    // Every entry shown is one of the log's, at its index.
    for e in &red {
        let i = e["index"].as_u64().unwrap() as usize;
        assert_eq!(&all[i], e);
    }
    // Blue's auditor sees blue's and not red's;
    let (blue, _) = read_all(&w, &w.token("blue", Role::Auditor)).await;
    let text = Value::Array(blue.clone()).to_string();
    assert!(
        !text.contains("\"red\""),
        "blue's auditor read red's: {text}"
    );
    // Proofs hold hashes only: any auditor gets them for any index.
    let size = all.len();
    let path = format!("/v1/audit/proof/inclusion?index=0&size={size}");
    w.ok(&w.token("red", Role::Auditor), "GET", &path, Value::Null)
        .await;
    // Other roles of red read no entries at all.
    for role in [Role::Viewer, Role::Operator, Role::KeyAdmin] {
        let (status, _) = w
            .call(
                &w.token("red", role),
                "GET",
                "/v1/audit/entries?start=0",
                Value::Null,
            )
            .await;
        assert_eq!(status, 403, "{role}");
    }
}
