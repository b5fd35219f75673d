//! Alerts and sinks by organisation over HTTPS (docs/alerts.md): red and blue each have a
//! host that loses trust and a sink; red's roles list only red's alerts and sinks, find
//! blue's alert and sink nowhere (404, unchanged), cannot take blue's sink name, and
//! blue's alert is queued to blue's sink only.

use super::tests::World;
use crate::store::Store;
use ironroot_api::Role;
use serde_json::{json, Value};

/// The World's database, found by its bootstrap token (`World` keeps its directory to
/// itself). A host loses trust here the way the service's sweeper makes it: a trusted
/// verdict whose deadline passed, expired by `expire_lapsed`, which logs the trust event
/// that raises the alert; attesting over HTTPS would need a TPM for each host.
async fn world_store(w: &World) -> Store {
    Store::open_sqlite(&w.db_path()).await.unwrap()
}

/// Makes hosts `h-red` and `h-blue` lose trust; returns (red's alert, blue's alert).
async fn both_lose_trust(w: &World, store: &Store) -> (String, String) {
    sqlx::query("UPDATE hosts SET trust_state = 'trusted', trust_deadline = 1")
        .execute(store.pool())
        .await
        .unwrap();
    store.expire_lapsed(crate::now()).await.unwrap();
    let mut ids = Vec::new();
    for org in ["red", "blue"] {
        let path = format!("/v1/alerts?subject=host/h-{org}");
        let list = w.ok(&w.boot, "GET", &path, Value::Null).await;
        let alerts = list["alerts"].as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{org}: {list}");
        ids.push(alerts[0]["id"].as_str().unwrap().to_owned());
    }
    (ids[0].clone(), ids[1].clone())
}

/// A webhook to a loopback port nobody serves: its notices stay queued to be counted.
fn hook() -> Value {
    json!({ "type": "webhook", "url": "http://127.0.0.1:9/in", "secret": "0123456789abcdef" })
}

async fn sinks_for_both(w: &World) {
    for org in ["red", "blue"] {
        let admin = w.token(org, Role::SecurityAdmin);
        w.ok(&admin, "PUT", &format!("/v1/sinks/{org}-siem"), hook())
            .await;
    }
}

fn names(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_organisation_lists_reads_and_acts_on_only_its_own_alerts() {
    let w = World::start().await;
    let store = world_store(&w).await;
    sinks_for_both(&w).await;
    let (red_alert, blue_alert) = both_lose_trust(&w, &store).await;
    let blue_before = w
        .ok(
            &w.boot,
            "GET",
            &format!("/v1/alerts/{blue_alert}"),
            Value::Null,
        )
        .await;
    assert_eq!(blue_before["state"], "open");

    for role in [Role::OrgAdmin, Role::Operator, Role::SecurityAdmin] {
        let red = w.token("red", role);
        let list = w.ok(&red, "GET", "/v1/alerts", Value::Null).await;
        assert_eq!(names(&list["alerts"], "id"), [red_alert.as_str()], "{role}");
        // Filters and pages stay inside the organisation.
        for q in ["?source=trust", "?subject=host/", "?state=open&limit=1"] {
            let page = w
                .ok(&red, "GET", &format!("/v1/alerts{q}"), Value::Null)
                .await;
            assert_eq!(
                names(&page["alerts"], "id"),
                [red_alert.as_str()],
                "{role} {q}"
            );
        }
        let own = format!("/v1/alerts/{red_alert}");
        assert_eq!(
            w.ok(&red, "GET", &own, Value::Null).await["id"],
            red_alert.as_str()
        );

        let blue = format!("/v1/alerts/{blue_alert}");
        let unknown = "/v1/alerts/al-no-such-alert";
        for (method, suffix) in [("GET", ""), ("POST", "/ack"), ("POST", "/resolve")] {
            let body = json!({ "by": "mallory" });
            let (status, v) = w
                .call(&red, method, &format!("{blue}{suffix}"), body.clone())
                .await;
            let (unknown_status, _) = w
                .call(&red, method, &format!("{unknown}{suffix}"), body)
                .await;
            assert_eq!(
                (status, unknown_status),
                (404, 404),
                "{role} {method} {suffix}: {v}"
            );
        }
    }
    // Blue's alert is as it was; blue acts on it.
    let blue_after = w
        .ok(
            &w.boot,
            "GET",
            &format!("/v1/alerts/{blue_alert}"),
            Value::Null,
        )
        .await;
    assert_eq!(blue_after, blue_before);
    let blue = w.token("blue", Role::Operator);
    let acked = w
        .ok(
            &blue,
            "POST",
            &format!("/v1/alerts/{blue_alert}/ack"),
            json!({ "by": "" }),
        )
        .await;
    assert_eq!(acked["state"], "acknowledged");
    // The bootstrap token sees both.
    let all = w.ok(&w.boot, "GET", "/v1/alerts", Value::Null).await;
    assert_eq!(all["alerts"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinks_are_their_organisations_and_hear_only_its_alerts() {
    let w = World::start().await;
    let store = world_store(&w).await;
    sinks_for_both(&w).await;
    let (red_alert, blue_alert) = both_lose_trust(&w, &store).await;

    for role in [Role::OrgAdmin, Role::SecurityAdmin] {
        let red = w.token("red", role);
        let list = w.ok(&red, "GET", "/v1/sinks", Value::Null).await;
        assert_eq!(names(&list, "name"), ["red-siem"], "{role}");
        let (status, v) = w
            .call(&red, "DELETE", "/v1/sinks/blue-siem", Value::Null)
            .await;
        assert_eq!(status, 404, "{role}: {v}");
        let stolen = json!({ "type": "webhook", "url": "http://127.0.0.1:9/mallory",
            "secret": "fedcba9876543210" });
        let (status, v) = w.call(&red, "PUT", "/v1/sinks/blue-siem", stolen).await;
        assert_eq!(status, 409, "{role}: {v}");
    }
    // Blue's sink is unchanged, still blue's.
    let blue = w.token("blue", Role::SecurityAdmin);
    let list = w.ok(&blue, "GET", "/v1/sinks", Value::Null).await;
    assert_eq!(names(&list, "name"), ["blue-siem"]);
    assert_eq!(list[0]["spec"]["url"], "http://127.0.0.1:9/in");

    // Each alert's notice is queued to its own organisation's sink only.
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT sink, alert_id FROM alert_outbox ORDER BY seq")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let to = |alert: &str| -> Vec<&str> {
        rows.iter()
            .filter(|(_, a)| a == alert)
            .map(|(s, _)| s.as_str())
            .collect()
    };
    assert_eq!(to(&blue_alert), ["blue-siem"], "{rows:?}");
    assert_eq!(to(&red_alert), ["red-siem"], "{rows:?}");

    // Deleting its own sink frees the name for anyone.
    w.ok(&blue, "DELETE", "/v1/sinks/blue-siem", Value::Null)
        .await;
    let red = w.token("red", Role::SecurityAdmin);
    w.ok(&red, "PUT", "/v1/sinks/blue-siem", hook()).await;
    let list = w.ok(&red, "GET", "/v1/sinks", Value::Null).await;
    assert_eq!(names(&list, "name"), ["blue-siem", "red-siem"]);
}

/// A host handed to another organisation takes its open alerts with it: the new
/// organisation sees and answers them, the old one no longer does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hosts_open_alert_goes_with_it_to_its_new_organisation() {
    let w = World::start().await;
    let store = world_store(&w).await;
    let (_, blue_alert) = both_lose_trust(&w, &store).await;
    w.ok(
        &w.boot,
        "PUT",
        "/v1/owners/host/h-blue",
        json!({ "id": "red" }),
    )
    .await;
    let path = format!("/v1/alerts/{blue_alert}");
    let blue = w.token("blue", Role::OrgAdmin);
    assert_eq!(w.call(&blue, "GET", &path, Value::Null).await.0, 404);
    let red = w.token("red", Role::Operator);
    let alert = w.ok(&red, "GET", &path, Value::Null).await;
    assert_eq!(alert["subject"], "host/h-blue");
    let ack = json!({ "by": "red-oncall" });
    w.ok(&red, "POST", &format!("{path}/ack"), ack).await;
}
