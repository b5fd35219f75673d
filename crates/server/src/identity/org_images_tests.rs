//! Image inventories divided by organisation, over HTTPS on a real service with a
//! vulnerability database: blue submits an image, the service rescans it on its own;
//! red's roles (and red's registered cluster) find nothing of it (404 as for an unknown
//! digest, no trace in the rescans) while blue's see it; once red submits the same
//! image, red reads it too and blue still does, each rescan showing an organisation only
//! the images it had submitted when that rescan ran.
//!
//! (`World` of identity/tests.rs starts its service without `--vulndb`, so this file
//! starts its own, with the same organisations and one token per role.)

use crate::{EkCertPolicy, ImagesConfig, ServerConfig, Service};
use ironroot_api::Role;
use ironroot_inventory::{Feed, Staging};
use ironroot_testkit::databases::TempDir;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ORGS: [&str; 2] = ["red", "blue"];
/// The roles of red that must find nothing of blue's image.
const READERS: [Role; 4] = [
    Role::Build,
    Role::SecurityAdmin,
    Role::OrgAdmin,
    Role::Viewer,
];

struct World {
    dir: TempDir,
    _service: Service,
    url: String,
    http: reqwest::Client,
    boot: String,
    tokens: BTreeMap<(&'static str, Role), String>,
}

impl World {
    async fn start() -> World {
        let dir = TempDir::new("identity-images");
        let mut config = ServerConfig::new(dir.path().to_path_buf());
        config.listen = ([127, 0, 0, 1], 0).into();
        config.ek_cert_policy = EkCertPolicy::IfPresent;
        config.images = Some(ImagesConfig {
            vulndb: dir.path().join("vulndb"),
            inventories: None,
            poll_secs: 1,
            // The fixtures' advisories are from 2024: old, and still used.
            max_db_age_secs: 100 * 365 * 86_400,
        });
        let service = Service::start(config).await.unwrap();
        let boot = std::fs::read_to_string(dir.path().join("admin.token")).unwrap();
        let roots = ironroot_tls::roots_from_pem(service.ca_pem.as_bytes()).unwrap();
        let http = ironroot_client::https_client(roots, None, Duration::from_secs(30)).unwrap();
        let mut w = World {
            url: format!("https://{}", service.addr),
            dir,
            _service: service,
            http,
            boot: boot.trim().to_owned(),
            tokens: BTreeMap::new(),
        };
        let boot = w.boot.clone();
        for org in ORGS {
            w.ok(&boot, "POST", "/v1/organisations", json!({ "id": org }))
                .await;
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

    fn token(&self, org: &'static str, role: Role) -> String {
        self.tokens[&(org, role)].clone()
    }

    async fn call(&self, token: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(m, format!("{}{path}", self.url))
            .bearer_auth(token);
        if method == "POST" {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, token: &str, method: &str, path: &str, body: Value) -> Value {
        let (status, v) = self.call(token, method, path, body).await;
        assert_eq!(status, 200, "{method} {path}: {v}");
        v
    }

    /// A registered cluster of `org`, calling with its own certificate.
    async fn cluster(&self, org: &'static str) -> ironroot_client::Client {
        let (key_pem, csr) = ironroot_client::new_key_and_csr(&format!("{org}-eu")).unwrap();
        let operator = self.token(org, Role::Operator);
        let body = json!({ "name": format!("{org}-eu"), "csr_pem": csr });
        let reg = self.ok(&operator, "POST", "/v1/clusters", body).await;
        let cert = reg["cert_pem"].as_str().unwrap();
        let ca = reg["ca_pem"].as_str().unwrap();
        ironroot_client::Client::agent(&self.url, ca.as_bytes(), Some((cert, &key_pem))).unwrap()
    }

    /// The images (key and name) and count of the rescan at `generation` as `token`
    /// sees them.
    async fn rescan(&self, token: &str, generation: u64) -> (Vec<(String, String)>, u64) {
        let log = self
            .ok(token, "GET", "/v1/images/rescans", Value::Null)
            .await;
        let record = log["rescans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["generation"] == generation)
            .unwrap_or_else(|| panic!("no rescan at {generation}: {log}"))
            .clone();
        let mut images: Vec<(String, String)> = record["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["key"].as_str().unwrap().into(),
                    c["image"].as_str().unwrap().into(),
                )
            })
            .collect();
        images.sort();
        (images, record["inventories"].as_u64().unwrap())
    }

    /// Installs a database of the fixtures' `advisories` and waits for the service's
    /// rescan at its generation.
    async fn new_database(&self, advisories: &[&str]) -> u64 {
        let feeds = self.dir.path().join(format!("feeds-{}", advisories.len()));
        std::fs::create_dir_all(&feeds).unwrap();
        for a in advisories {
            let from = repo().join("crates/vulndb/tests/fixtures/osv").join(a);
            std::fs::copy(from, feeds.join(a)).unwrap();
        }
        let mut staging = Staging::default();
        let name = feeds.display().to_string();
        staging.add(&name, Feed::Path(feeds)).unwrap();
        let generation = staging
            .install(&self.dir.path().join("vulndb"), crate::now())
            .unwrap()
            .updated_at;
        let t = Instant::now();
        loop {
            let log = self
                .ok(&self.boot, "GET", "/v1/images/rescans", Value::Null)
                .await;
            if log["rescans"][0]["generation"] == generation {
                return generation;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "no rescan: {log}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scan report of an Alpine 3.20 image named `reference`, with the fixtures'
/// vulnerable xz and openssl (`honest`), or with no package at all.
fn report(digest: &str, reference: &str, honest: bool) -> Value {
    let apk = |name: &str, version: &str, source: &str| {
        json!({ "name": name, "version": version, "source_name": source, "arch": "x86_64",
            "ecosystem": "apk", "layer": 0, "db_path": "lib/apk/db/installed" })
    };
    let packages = if honest {
        vec![
            apk("xz-libs", "5.6.1-r1", "xz"),
            apk("libcrypto3", "3.3.1-r0", "openssl"),
        ]
    } else {
        Vec::new()
    };
    json!({
        "schema": ironroot_scanner::SCHEMA, "scanner_version": "test",
        "image": { "reference": reference, "source": "registry",
            "manifest_digest": digest },
        "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:00:01Z",
        "os": { "id": "alpine", "version_id": "3.20.3" },
        "layers": [],
        "packages": packages,
        "vulnerabilities": [], "findings": []
    })
}

fn summary(digest: &str) -> String {
    format!("/v1/images/{digest}/summary")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organisation_sees_only_the_images_it_submitted() {
    let w = World::start().await;
    let blue_image = format!("sha256:{}", "b".repeat(64));
    let red_image = format!("sha256:{}", "a".repeat(64));
    let unknown = format!("sha256:{}", "0".repeat(64));
    let (blue_app, red_app, red_mirror) = (
        "blue.example/app:1",
        "red.example/app:1",
        "red.example/mirror:1",
    );
    let inventories = "/v1/images/inventories";
    let (blue, red) = (w.token("blue", Role::Build), w.token("red", Role::Build));
    w.ok(
        &blue,
        "POST",
        inventories,
        report(&blue_image, blue_app, true),
    )
    .await;
    w.ok(&red, "POST", inventories, report(&red_image, red_app, true))
        .await;
    let first = w.new_database(&["ALPINE-CVE-2024-3094.json"]).await;

    // The platform sees both; each organisation its own, counted as its own (by key).
    let blues = (blue_image.clone(), blue_app.to_owned());
    let reds = (red_image.clone(), red_app.to_owned());
    let both = vec![reds.clone(), blues.clone()];
    assert_eq!(w.rescan(&w.boot, first).await, (both.clone(), 2));
    for role in READERS {
        let blue = w.token("blue", role);
        assert_eq!(w.rescan(&blue, first).await, (vec![blues.clone()], 1));
        let s = w.ok(&blue, "GET", &summary(&blue_image), Value::Null).await;
        assert_eq!(
            (s["generation"].as_u64(), s["findings"].as_u64()),
            (Some(first), Some(1))
        );
        let red = w.token("red", role);
        assert_eq!(w.rescan(&red, first).await, (vec![reds.clone()], 1));
        // Blue's image reads exactly as one nobody submitted.
        let (status, body) = w
            .call(&red, "GET", &summary(&blue_image), Value::Null)
            .await;
        let (_, none) = w.call(&red, "GET", &summary(&unknown), Value::Null).await;
        assert_eq!(status, 404, "{role}: {body}");
        let none = none.to_string().replace(&unknown, &blue_image);
        assert_eq!(body.to_string(), none, "{role}");
    }
    let red_viewer = w.token("red", Role::Viewer);
    let log = w
        .ok(&red_viewer, "GET", "/v1/images/rescans", Value::Null)
        .await;
    assert!(!log.to_string().contains(&blue_image), "{log}");
    assert!(!log.to_string().contains(blue_app), "{log}");
    assert_eq!(log["rescans"][0]["packages"], 0, "{log}");
    // A registered cluster reads its owner's images only.
    let (red_eu, blue_eu) = (w.cluster("red").await, w.cluster("blue").await);
    assert_eq!(red_eu.image_scan_summary(&blue_image).await.unwrap(), None);
    assert!(red_eu
        .image_scan_summary(&red_image)
        .await
        .unwrap()
        .is_some());
    let seen = blue_eu.image_scan_summary(&blue_image).await.unwrap();
    assert_eq!(seen.map(|s| s.generation), Some(first));

    // Red submits blue's image, first with no package (a lie that would make it read as
    // clean), then honestly, twice: both read it now, as blue's submission stored it.
    for honest in [false, true, true] {
        let kept = w
            .ok(
                &red,
                "POST",
                inventories,
                report(&blue_image, red_mirror, honest),
            )
            .await;
        assert_eq!(kept["image"], blue_image.as_str());
    }
    for org in ORGS {
        let s = w
            .ok(
                &w.token(org, Role::Viewer),
                "GET",
                &summary(&blue_image),
                Value::Null,
            )
            .await;
        assert_eq!(s["findings"], 1, "{org}: {s}");
    }
    assert!(red_eu
        .image_scan_summary(&blue_image)
        .await
        .unwrap()
        .is_some());
    // The rescan before red submitted it did not run for red over it...
    assert_eq!(w.rescan(&red_viewer, first).await, (vec![reds.clone()], 1));
    // ...the next one did, under red's name for it; blue's view is unchanged.
    let second = w
        .new_database(&["ALPINE-CVE-2024-3094.json", "ALPINE-CVE-2024-5535.json"])
        .await;
    let mirrored = (blue_image.clone(), red_mirror.to_owned());
    assert_eq!(
        w.rescan(&red_viewer, second).await,
        (vec![reds, mirrored], 2)
    );
    let blue_viewer = w.token("blue", Role::Viewer);
    assert_eq!(
        w.rescan(&blue_viewer, second).await,
        (vec![blues.clone()], 1)
    );
    assert_eq!(w.rescan(&blue_viewer, first).await, (vec![blues], 1));
    assert_eq!(w.rescan(&w.boot, second).await.1, 2);
    let s = w
        .ok(&blue_viewer, "GET", &summary(&blue_image), Value::Null)
        .await;
    assert_eq!(
        (s["generation"].as_u64(), s["findings"].as_u64()),
        (Some(second), Some(2))
    );
}
