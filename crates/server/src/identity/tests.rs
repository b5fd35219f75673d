//! The access rules over HTTPS on a real service, generated from the router itself:
//! every route of `lib.rs` has a rule or is named as another gate's (a new route without
//! one fails here), and every rule x every role (and the bootstrap token's modes) is
//! called and must be allowed or refused (403) as the table says. Organisations: a
//! credential of one sees nothing of another (404), lists only its own, and every
//! decision is in the audit trail.

use super::rules::{self, RULES};
use crate::store::Store;
use crate::{EkCertPolicy, ServerConfig, Service};
use ironroot_api::Role;
use ironroot_testkit::databases::TempDir;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Routes behind the other gates (enrollment and public keys, agents' certificates,
/// clusters' certificates, the dashboard's static files).
const OTHER_GATES: &[&str] = &[
    "/v1/enroll",
    "/v1/enroll/{id}/activate",
    "/.well-known/tag-jwks.json",
    "/.well-known/jwks.json",
    "/.well-known/ironroot-log/checkpoint",
    "/.well-known/ironroot-log/key",
    "/healthz",
    "/v1/sign-in",
    "/v1/sign-in/token",
    "/v1/bench/enroll",
    "/v1/attest/challenge",
    "/v1/attest/evidence",
    "/v1/agent/asset-tag",
    "/v1/agent/certificate",
    "/v1/keys/{id}/release",
    "/v1/cluster/bundle",
    "/v1/cluster/compliance",
    "/v1/cluster/violations",
    "/v1/cluster/remediations",
    "/v1/cluster/certificate",
    "/v1/cluster/workloads",
];

/// Every `(method, path)` the router of `lib.rs` declares, read from its source.
fn declared_routes() -> BTreeSet<(String, String)> {
    let src = include_str!("../lib.rs");
    let router = &src[src.find("fn router(").unwrap()..];
    let mut out = BTreeSet::new();
    for (at, _) in router.match_indices(".route(") {
        let rest = &router[at + ".route(".len()..];
        let (mut depth, mut end) = (1, 0);
        for (i, c) in rest.char_indices() {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            if depth == 0 {
                end = i;
                break;
            }
        }
        let call = &rest[..end];
        let path = call.split('"').nth(1).unwrap().to_owned();
        for (m, word) in [
            ("GET", "get("),
            ("POST", "post("),
            ("PUT", "put("),
            ("DELETE", "delete("),
        ] {
            let used = call.match_indices(word).any(|(i, _)| {
                i == 0
                    || !call.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && call.as_bytes()[i - 1] != b'_'
            });
            if used {
                out.insert((m.to_owned(), path.clone()));
            }
        }
    }
    out
}

#[test]
fn every_route_has_a_rule_or_another_gate_and_every_rule_a_route() {
    let declared = declared_routes();
    assert!(
        declared.len() > 60,
        "the router was read: {}",
        declared.len()
    );
    for (m, p) in &declared {
        assert!(
            rules::rule(m, p).is_some() || OTHER_GATES.contains(&p.as_str()),
            "{m} {p} has no access rule in identity/rules.rs"
        );
    }
    for r in RULES {
        assert!(
            declared.contains(&(r.method.to_owned(), r.path.to_owned())),
            "the rule {} {} names no route",
            r.method,
            r.path
        );
    }
}

pub(super) struct World {
    _dir: TempDir,
    _service: Service,
    pub url: String,
    pub http: reqwest::Client,
    pub boot: String,
    /// (organisation, role) to token.
    pub tokens: BTreeMap<(&'static str, Role), String>,
}

pub(super) const ORGS: [&str; 2] = ["red", "blue"];

impl World {
    pub(super) async fn start() -> World {
        let dir = TempDir::new("identity-routes");
        let mut config = ServerConfig::new(dir.path().to_path_buf());
        config.listen = ([127, 0, 0, 1], 0).into();
        config.ek_cert_policy = EkCertPolicy::IfPresent;
        let service = Service::start(config).await.unwrap();
        let store = Store::open_sqlite(&dir.path().join("ironroot.db"))
            .await
            .unwrap();
        for (id, name) in [("h-red", "red-1"), ("h-blue", "blue-1")] {
            store
                .put_host(&crate::nodes::tests::host(id, name))
                .await
                .unwrap();
        }
        let boot = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
        let roots = ironroot_tls::roots_from_pem(service.ca_pem.as_bytes()).unwrap();
        let http = ironroot_client::https_client(roots, None, Duration::from_secs(30)).unwrap();
        let mut w = World {
            url: format!("https://{}", service.addr),
            _dir: dir,
            _service: service,
            http,
            boot: boot.trim().to_owned(),
            tokens: BTreeMap::new(),
        };
        let boot = w.boot.clone();
        for org in ORGS {
            w.ok(&boot, "POST", "/v1/organisations", json!({ "id": org }))
                .await;
            let host = format!("/v1/owners/host/h-{org}");
            w.ok(&boot, "PUT", &host, json!({ "id": org })).await;
            for role in Role::ALL {
                let body = json!({ "name": format!("{org}-{role}"), "role": role,
                    "organisation": org, "lifetime_secs": 3600 });
                let issued = w.ok(&boot, "POST", "/v1/tokens", body).await;
                w.tokens
                    .insert((org, role), issued["token"].as_str().unwrap().to_owned());
            }
        }
        w
    }

    /// The service's SQLite database, for tests that set up state no route makes.
    pub(super) fn db_path(&self) -> std::path::PathBuf {
        self._dir.path().join("ironroot.db")
    }

    pub(super) fn token(&self, org: &'static str, role: Role) -> String {
        self.tokens[&(org, role)].clone()
    }

    /// The status and body of one call; `body` is sent for POST and PUT.
    pub(super) async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(m, url).bearer_auth(token);
        if method == "POST" || method == "PUT" {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        if path == "/v1/events" {
            return (status, Value::Null);
        }
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub(super) async fn ok(&self, token: &str, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = self.call(token, method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {v}");
        v
    }
}

/// A rule's path with each parameter naming nothing that exists.
fn nowhere(path: &str) -> String {
    path.replace("{kind}", "host")
        .replace("{id}", "no-such-id")
        .replace("{host_id}", "no-such-host")
        .replace("{n}", "999999")
        .replace("{name}", "no-such-sink")
        .replace("{email}", "nobody@example.com")
        .replace("{digest}", &format!("sha256:{}", "0".repeat(64)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_allows_and_refuses_each_role_as_the_table_says() {
    let w = World::start().await;
    let mut wrong = Vec::new();
    for rule in RULES {
        let path = nowhere(rule.path);
        let mut callers: Vec<(String, String, bool)> = Role::ALL
            .into_iter()
            .map(|role| {
                let red = super::Principal {
                    actor: String::new(),
                    org: Some("red".into()),
                    grant: super::Grant::Role(role),
                };
                let may = super::may(&red, rule);
                (role.to_string(), w.token("red", role), may)
            })
            .collect();
        callers.push(("bootstrap".into(), w.boot.clone(), true));
        for (who, token, may) in callers {
            let (status, body) = w.call(&token, rule.method, &path, json!({})).await;
            let refused = status == 403;
            if status == 401 || refused == may {
                wrong.push(format!("{who}: {} {path} -> {status} {body}", rule.method));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong decisions:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // Each of those decisions is in the audit trail, allowed and refused alike.
    let (denied, allowed) = w.decisions().await;
    assert!(denied >= RULES.len(), "{denied} refusals logged");
    assert!(allowed >= RULES.len(), "{allowed} allowances logged");
}

impl World {
    /// Counts of `access.denied` and `access.allowed` entries in the log, up to its size
    /// when asked (each page read is a decision logged too: reading to the live end would
    /// chase its own tail).
    pub(super) async fn decisions(&self) -> (usize, usize) {
        let (mut denied, mut allowed, mut start) = (0, 0, 0);
        let first = self
            .ok(
                &self.boot,
                "GET",
                "/v1/audit/entries?start=0&end=0",
                Value::Null,
            )
            .await;
        let size = first["size"].as_u64().unwrap();
        while start < size {
            let page = self
                .ok(
                    &self.boot,
                    "GET",
                    &format!("/v1/audit/entries?start={start}&end={size}"),
                    Value::Null,
                )
                .await;
            let entries = page["entries"].as_array().cloned().unwrap_or_default();
            assert!(!entries.is_empty(), "entries {start}..{size} are served");
            for e in &entries {
                match e["kind"].as_str() {
                    Some("access.denied") => denied += 1,
                    Some("access.allowed") => allowed += 1,
                    _ => {}
                }
            }
            start += entries.len() as u64;
        }
        (denied, allowed)
    }
}
