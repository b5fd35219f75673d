//! Policies by organisation over HTTPS (docs/hub.md): blue and red each write their own
//! policy set (version numbers are one counter shared by both), read back only their
//! own, list only their own versions, find the other's version nowhere (404), see only
//! their own clusters' compliance and history, and each one's cluster is sent its own
//! organisation's set in its signed bundle.

use super::tests::World;
use ironroot_api::{BundlePayload, ComplianceReport, ComplianceStatus, PolicyCompliance, Role};
use ironroot_client::Client;
use serde_json::{json, Value};

/// A valid set of one policy, `id`, at `version`.
fn set(version: u64, id: &str) -> String {
    let rule = match id {
        "no-privileged" => "no-privileged",
        _ => "run-as-non-root",
    };
    format!(
        "version: {version}\npolicies:\n\
         - id: {id}\n  description: {id} holds.\n  severity: high\n  \
           mode: enforce\n  remediation: deny\n  rule: {{ {rule}: {{}} }}\n"
    )
}

fn change(document: &str) -> Value {
    json!({ "document": document, "by": "alice" })
}

/// A registered cluster of `org`, calling with its own certificate: (its id, its client).
async fn cluster(w: &World, org: &'static str) -> (String, Client) {
    let name = format!("{org}-eu");
    let (key_pem, csr) = ironroot_client::new_key_and_csr(&name).unwrap();
    let operator = w.token(org, Role::Operator);
    let body = json!({ "name": name, "csr_pem": csr });
    let reg = w.ok(&operator, "POST", "/v1/clusters", body).await;
    let cert = reg["cert_pem"].as_str().unwrap();
    let ca = reg["ca_pem"].as_str().unwrap();
    let client = Client::agent(&w.url, ca.as_bytes(), Some((cert, &key_pem))).unwrap();
    (reg["id"].as_str().unwrap().to_owned(), client)
}

fn report(version: u64, policy: &str) -> ComplianceReport {
    ComplianceReport {
        policy_version: version,
        generated_at: 1,
        webhook_serving: true,
        policies: vec![PolicyCompliance {
            policy: policy.into(),
            status: ComplianceStatus::Compliant,
            checked: 1,
            violations: 0,
            unknown: 0,
            samples: vec![],
        }],
    }
}

fn numbers(v: &Value) -> Vec<u64> {
    v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["version"].as_u64().unwrap())
        .collect()
}

/// The cluster ids of an overview's or a history's entries.
fn clusters_in(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = match v.get("policies") {
        Some(policies) => policies
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["clusters"].as_array().unwrap().clone())
            .map(|c| c["cluster"].as_str().unwrap().to_owned())
            .collect(),
        None => v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["cluster"].as_str().unwrap().to_owned())
            .collect(),
    };
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_organisation_writes_reads_and_enforces_only_its_own_policy_set() {
    let w = World::start().await;
    let blue = w.token("blue", Role::SecurityAdmin);
    let red = w.token("red", Role::SecurityAdmin);
    let (blue_id, blue_cluster) = cluster(&w, "blue").await;
    let (red_id, red_cluster) = cluster(&w, "red").await;
    // Neither has a set yet: its cluster is told there is none, as before any set existed.
    for c in [&blue_cluster, &red_cluster] {
        let e = c.policy_bundle(None).await.err().unwrap();
        assert_eq!(
            e.api().map(|a| a.kind),
            Some(ironroot_api::ErrorKind::NotFound)
        );
    }

    let blue_set = set(1, "no-privileged");
    let v = w.ok(&blue, "PUT", "/v1/policies", change(&blue_set)).await;
    assert_eq!(v["version"], 1);
    // The counter is shared: red's first version is the next number, and the refusal
    // says which.
    let (status, body) = w
        .call(
            &red,
            "PUT",
            "/v1/policies",
            change(&set(1, "run-as-non-root")),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("red has no version yet") && message.contains("version 2"));
    let red_set = set(2, "run-as-non-root");
    w.ok(&red, "PUT", "/v1/policies", change(&red_set)).await;

    // Each reads back its own set and lists its own versions only.
    for (org, token, own, doc, other) in [
        ("blue", &blue, 1, &blue_set, 2),
        ("red", &red, 2, &red_set, 1),
    ] {
        let viewer = w.token(org, Role::Viewer);
        for t in [token, &viewer] {
            let current = w.ok(t, "GET", "/v1/policies", Value::Null).await;
            assert_eq!(
                (&current["version"], &current["document"]),
                (&json!(own), &json!(doc))
            );
            let listed = w.ok(t, "GET", "/v1/policies/versions", Value::Null).await;
            assert_eq!(numbers(&listed), [own], "{org}");
            let mine = format!("/v1/policies/versions/{own}");
            w.ok(t, "GET", &mine, Value::Null).await;
            let theirs = format!("/v1/policies/versions/{other}");
            let (status, body) = w.call(t, "GET", &theirs, Value::Null).await;
            let (unknown, _) = w
                .call(t, "GET", "/v1/policies/versions/99", Value::Null)
                .await;
            assert_eq!((status, unknown), (404, 404), "{org}: {body}");
        }
    }
    // The bootstrap credential lists every organisation's versions and acts on the
    // platform's set, which has none yet.
    let all = w
        .ok(&w.boot, "GET", "/v1/policies/versions", Value::Null)
        .await;
    assert_eq!(numbers(&all), [2, 1]);
    assert_eq!(
        w.call(&w.boot, "GET", "/v1/policies", Value::Null).await.0,
        404
    );
    w.ok(
        &w.boot,
        "PUT",
        "/v1/policies",
        change(&set(3, "no-privileged")),
    )
    .await;
    let current = w.ok(&blue, "GET", "/v1/policies", Value::Null).await;
    assert_eq!(current["version"], 1, "a platform change is not blue's");

    // Each cluster is sent its own organisation's set, signed and bound to it.
    let jwks: ironroot_crypto::JwkSet = w
        .http
        .get(format!("{}/.well-known/jwks.json", w.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (c, id, version, doc) in [
        (&blue_cluster, &blue_id, 1, &blue_set),
        (&red_cluster, &red_id, 2, &red_set),
    ] {
        let b = c.policy_bundle(None).await.unwrap().unwrap();
        let payload: BundlePayload =
            serde_json::from_slice(&jwks.verify_compact(&b.jws).unwrap()).unwrap();
        assert_eq!(
            (payload.version, &payload.cluster, &payload.document),
            (version, id, doc)
        );
        assert!(
            c.policy_bundle(Some(version)).await.unwrap().is_none(),
            "304"
        );
    }

    // Compliance: each reports under its own set; a version its organisation does not
    // have yet is refused.
    blue_cluster
        .report_compliance(&report(1, "no-privileged"))
        .await
        .unwrap();
    red_cluster
        .report_compliance(&report(2, "run-as-non-root"))
        .await
        .unwrap();
    assert!(red_cluster
        .report_compliance(&report(3, "run-as-non-root"))
        .await
        .is_err());
    for (org, id, version) in [("blue", &blue_id, 1), ("red", &red_id, 2)] {
        let viewer = w.token(org, Role::Viewer);
        let o = w.ok(&viewer, "GET", "/v1/compliance", Value::Null).await;
        assert_eq!(o["policy_version"], version, "{org}: {o}");
        assert_eq!(o["status"], "compliant", "{org}: {o}");
        assert_eq!(clusters_in(&o), [id.as_str()], "{org}");
        let h = w
            .ok(&viewer, "GET", "/v1/compliance/history", Value::Null)
            .await;
        assert_eq!(clusters_in(&h), [id.as_str()], "{org}");
        // Filtering by the other organisation's cluster finds nothing.
        let other = if org == "blue" { &red_id } else { &blue_id };
        let path = format!("/v1/compliance/history?cluster={other}");
        let h = w.ok(&viewer, "GET", &path, Value::Null).await;
        assert!(clusters_in(&h).is_empty(), "{org}: {h}");
        // The cluster list judges its cluster by its own set.
        let list = w.ok(&viewer, "GET", "/v1/clusters", Value::Null).await;
        assert_eq!(list["clusters"][0]["status"], "compliant", "{org}: {list}");
    }
    let h = w
        .ok(&w.boot, "GET", "/v1/compliance/history", Value::Null)
        .await;
    assert_eq!(
        clusters_in(&h).len(),
        2,
        "the bootstrap credential sees both"
    );

    // The audit trail says whose set each version is.
    // Up to the log's size when asked: each page read is logged too.
    let first = "/v1/audit/entries?start=0&end=0";
    let size = w.ok(&w.boot, "GET", first, Value::Null).await["size"]
        .as_u64()
        .unwrap();
    let mut entries = Vec::new();
    while (entries.len() as u64) < size {
        let path = format!("/v1/audit/entries?start={}&end={size}", entries.len());
        let page = w.ok(&w.boot, "GET", &path, Value::Null).await;
        let got = page["entries"].as_array().unwrap().clone();
        assert!(!got.is_empty());
        entries.extend(got);
    }
    let orgs: Vec<(u64, String)> = entries
        .iter()
        .filter(|e| e["kind"] == "policy.version")
        .map(|e| {
            let b = &e["body"];
            (
                b["version"].as_u64().unwrap(),
                b["organisation"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        orgs,
        [
            (1, "blue".to_owned()),
            (2, "red".to_owned()),
            (3, "default".to_owned())
        ]
    );
}
