#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! People, API tokens and `ironroot login` against a real service and a real OpenID
//! Connect provider: Dex on loopback (`ironroot_peers::dex`), its ID tokens from the
//! password grant and from the device flow (RFC 8628) that `ironroot login` drives, with
//! the browser's part played by plain HTTP requests. In CI (`IRONROOT_REQUIRE_PEERS=1`)
//! a missing Dex fails these tests.

use ironroot_api::{PersonBinding, Role, WrapRequest, B64};
use ironroot_client::{Client, PlainHttp};
use ironroot_peers::dex::{self, Dex};
use ironroot_server::{EkCertPolicy, OidcSettings, ServerConfig, Service};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// A service whose people sign in with Dex; everything goes away on drop.
struct Platform {
    service: Option<Service>,
    dex: Option<Dex>,
    runtime: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
}

impl Platform {
    /// `None` (after `skip_missing_peer`) when Dex cannot run here.
    fn start(name: &str) -> Option<Platform> {
        if let Some(why) = dex::missing() {
            ironroot_testkit::skip_missing_peer(&why);
            return None;
        }
        ironroot_tls::install_process_provider();
        let dir = tempfile::Builder::new()
            .prefix(&format!("ironroot-identity-{name}-"))
            .tempdir()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dex = runtime.block_on(Dex::start()).expect("Dex starts");
        let mut config = ServerConfig::new(dir.path().join("service"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.ek_cert_policy = EkCertPolicy::IfPresent;
        config.oidc = Some(OidcSettings {
            issuer: dex.issuer().to_owned(),
            client_id: dex::CLIENT_ID.to_owned(),
            ca_file: None,
            client_secret_file: None,
        });
        let service = runtime.block_on(Service::start(config)).unwrap();
        Some(Platform {
            service: Some(service),
            dex: Some(dex),
            runtime,
            dir,
        })
    }

    fn dex(&self) -> &Dex {
        self.dex.as_ref().unwrap()
    }

    fn server(&self) -> String {
        format!("https://{}", self.service.as_ref().unwrap().addr)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("service")
    }

    /// A client of the service presenting `token`.
    fn client(&self, token: &str) -> Client {
        let ca = std::fs::read(self.data().join("ca.pem")).unwrap();
        Client::admin(&self.server(), &ca, token, PlainHttp::Refused).unwrap()
    }

    fn bootstrap(&self) -> Client {
        let token = std::fs::read_to_string(self.data().join("admin.token")).unwrap();
        self.client(token.trim())
    }

    /// `ironroot ARGS` against this service, with the bootstrap token unless ARGS name
    /// another --token-file.
    fn ironroot(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_ironroot"))
            .args(args)
            .env("IRONROOT_SERVER", self.server())
            .env("IRONROOT_CA", self.data().join("ca.pem"))
            .env("IRONROOT_TOKEN_FILE", self.data().join("admin.token"))
            .env_remove("IRONROOT_LOG")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.ironroot(args);
        assert!(
            out.status.success(),
            "ironroot {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.ironroot(args);
        assert_eq!(out.status.code(), Some(1), "ironroot {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    /// An ID token for Ada from Dex's password grant, issued to `client`.
    fn id_token(&self, client: (&str, &str)) -> String {
        let res = self.runtime.block_on(async {
            let res = reqwest::Client::new()
                .post(self.dex().token_endpoint())
                .basic_auth(client.0, Some(client.1))
                .form(&[
                    ("grant_type", "password"),
                    ("username", dex::USER_EMAIL),
                    ("password", dex::USER_PASSWORD),
                    ("scope", "openid email profile"),
                ])
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<serde_json::Value>().await.unwrap())
        });
        assert!(res.0.is_success(), "password grant: {res:?}");
        res.1["id_token"].as_str().unwrap().to_owned()
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        drop(self.service.take());
        drop(self.dex.take());
    }
}

fn status(e: &ironroot_client::ClientError) -> u16 {
    e.status().map(|s| s.0).unwrap_or(0)
}

#[test]
fn a_person_signed_in_with_dex_has_the_role_bound_to_their_email_and_no_more() {
    let Some(p) = Platform::start("person") else {
        return;
    };
    let boot = p.bootstrap();
    p.runtime.block_on(async {
        boot.create_organisation("acme").await.unwrap();
        boot.bind_person(&PersonBinding {
            email: dex::USER_EMAIL.into(),
            role: Role::Viewer,
            organisation: Some("acme".into()),
        })
        .await
        .unwrap();
    });
    let ada = p.client(&p.id_token((dex::CLIENT_ID, dex::CLIENT_SECRET)));
    p.runtime.block_on(async {
        let me = ada.whoami().await.unwrap();
        assert_eq!(me.actor, format!("person/{}", dex::USER_EMAIL));
        assert_eq!(me.organisation.as_deref(), Some("acme"));
        assert_eq!(me.role, Some(Role::Viewer));
        // A viewer reads hosts, and may not write flavors.
        ada.hosts().await.unwrap();
        let e = ada
            .post::<_, serde_json::Value>("/v1/flavors", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!(status(&e), 403, "{e}");
        assert!(e.to_string().contains("viewer in acme"), "{e}");

        // Unbound: the same, still valid, ID token is refused from the next request on.
        boot.unbind_person(dex::USER_EMAIL).await.unwrap();
        assert_eq!(status(&ada.whoami().await.unwrap_err()), 401);
    });

    // Dex's token for another application: real, signed, but not meant for this service.
    boot_bind_again(&p);
    let other = p.client(&p.id_token((dex::OTHER_CLIENT_ID, dex::OTHER_CLIENT_SECRET)));
    p.runtime.block_on(async {
        assert_eq!(status(&other.whoami().await.unwrap_err()), 401);
    });

    // Bound in two organisations, Ada names the one she acts in (--acting-org).
    p.runtime.block_on(async {
        boot.create_organisation("globex").await.unwrap();
        boot.bind_person(&PersonBinding {
            email: dex::USER_EMAIL.into(),
            role: Role::Auditor,
            organisation: Some("globex".into()),
        })
        .await
        .unwrap();
    });
    let file = p.dir.path().join("ada.id-token");
    std::fs::write(&file, p.id_token((dex::CLIENT_ID, dex::CLIENT_SECRET))).unwrap();
    let file = file.to_str().unwrap();
    let err = p.fails(&["whoami", "--token-file", file]);
    assert!(
        err.contains("several organisations") && err.contains("--acting-org"),
        "{err}"
    );
    for (org, role) in [("globex", "auditor"), ("acme", "viewer")] {
        let me = p.ok(&[
            "whoami",
            "--token-file",
            file,
            "--acting-org",
            org,
            "--output",
            "json",
        ]);
        let me: serde_json::Value = serde_json::from_str(&me).unwrap();
        assert_eq!(
            (me["organisation"].as_str(), me["role"].as_str()),
            (Some(org), Some(role))
        );
    }
    // An organisation she is not bound in: not authenticated there (the reason, "not
    // bound", is in the audit trail, not told).
    let err = p.fails(&["whoami", "--token-file", file, "--acting-org", "initech"]);
    assert!(err.contains("authentication required"), "{err}");
}

/// Binds Ada again, so that a refusal afterwards is the audience's doing.
fn boot_bind_again(p: &Platform) {
    p.runtime.block_on(async {
        p.bootstrap()
            .bind_person(&PersonBinding {
                email: dex::USER_EMAIL.into(),
                role: Role::Viewer,
                organisation: Some("acme".into()),
            })
            .await
            .unwrap();
    });
}

#[test]
fn ironroot_login_signs_in_with_the_device_flow_and_the_saved_token_works() {
    let Some(p) = Platform::start("login") else {
        return;
    };
    p.ok(&["org", "create", "acme"]);
    let bound = p.ok(&[
        "person",
        "bind",
        dex::USER_EMAIL,
        "--role",
        "auditor",
        "--org",
        "acme",
    ]);
    assert!(
        bound.contains("auditor") && bound.contains("acme"),
        "{bound}"
    );

    let secret = p.dir.path().join("client-secret");
    std::fs::write(&secret, format!("{}\n", dex::CLIENT_SECRET)).unwrap();
    let token_file = p.dir.path().join("home").join("token");
    let mut login = Command::new(env!("CARGO_BIN_EXE_ironroot"))
        .args([
            "login",
            "--issuer",
            p.dex().issuer(),
            "--client-id",
            dex::CLIENT_ID,
        ])
        .arg("--client-secret-file")
        .arg(&secret)
        .arg("--token-file")
        .arg(&token_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The prompt: "To sign in, open URI in a browser and enter the code CODE".
    let mut stderr = BufReader::new(login.stderr.take().unwrap());
    let mut prompt = String::new();
    while !prompt.contains("enter the code") {
        prompt.clear();
        assert!(
            stderr.read_line(&mut prompt).unwrap() > 0,
            "login ended early"
        );
    }
    let code = prompt.split_whitespace().last().unwrap().to_owned();
    let uri = prompt.split_whitespace().nth(4).unwrap().to_owned();
    assert!(uri.starts_with(p.dex().issuer()), "{prompt}");

    // The browser: the code, Dex's password form, and (skipped) approval, then the
    // device callback, all redirects followed.
    p.runtime.block_on(async {
        let browser = reqwest::Client::new();
        let page = browser
            .post(format!("{}/device/auth/verify_code", p.dex().issuer()))
            .form(&[("user_code", code.as_str())])
            .send()
            .await
            .unwrap();
        let login_url = page.url().clone();
        eprintln!("DEBUG {} {}", page.status(), page.text().await.unwrap());
        assert!(
            login_url.path().ends_with("/auth/local/login"),
            "not Dex's password form: {login_url}"
        );
        let done = browser
            .post(login_url)
            .form(&[("login", dex::USER_EMAIL), ("password", dex::USER_PASSWORD)])
            .send()
            .await
            .unwrap();
        let (url, ok) = (done.url().clone(), done.status().is_success());
        assert!(
            ok && url.path().ends_with("/device/callback"),
            "ended at {url}"
        );
    });
    let rest: String = stderr.lines().map(|l| l.unwrap() + "\n").collect();
    let status = login.wait().unwrap();
    assert!(
        status.success(),
        "ironroot login: {rest}\n{}",
        p.dex().log()
    );
    assert!(
        rest.contains(&format!("Signed in as {}", dex::USER_EMAIL)),
        "{rest}"
    );

    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let saved = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(saved.trim().split('.').count(), 3, "a compact JWS");
    assert!(!rest.contains(saved.trim()), "the token is never printed");

    let token_arg = token_file.to_str().unwrap();
    let me = p.ok(&["whoami", "--token-file", token_arg]);
    assert!(me.contains(&format!("person/{}", dex::USER_EMAIL)), "{me}");
    assert!(me.contains("auditor") && me.contains("acme"), "{me}");
}

#[test]
fn a_build_token_wraps_keys_and_may_not_list_hosts() {
    let Some(p) = Platform::start("build") else {
        return;
    };
    p.ok(&["org", "create", "acme"]);
    // Printed once on stdout, alone.
    let token = p.ok(&[
        "token",
        "create",
        "--name",
        "ci-builder",
        "--role",
        "build",
        "--org",
        "acme",
        "--lifetime",
        "1d",
    ]);
    let token = token.trim().to_owned();
    assert!(token.starts_with("irt_"), "{token}");
    let file = p.dir.path().join("build.token");
    std::fs::write(&file, &token).unwrap();
    let file = file.to_str().unwrap();

    let me = p.ok(&["whoami", "--token-file", file, "--output", "json"]);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["role"], "build");
    assert_eq!(me["organisation"], "acme");

    let err = p.fails(&["host", "list", "--token-file", file]);
    assert!(
        err.contains("build in acme") && err.contains("may not GET /v1/hosts"),
        "{err}"
    );

    // Its job: wrapping with a key of its organisation.
    p.ok(&["key", "create", "images", "--any-trusted-node"]);
    let keys: serde_json::Value =
        serde_json::from_str(&p.ok(&["key", "list", "--output", "json"])).unwrap();
    let key_id = keys[0]["key_id"].as_str().unwrap();
    let moved = p.ok(&["owner", "set", "key", key_id, "--org", "acme"]);
    assert!(moved.contains("now belongs to acme"), "{moved}");
    let wrapped = p.runtime.block_on(async {
        p.client(&token)
            .wrap(
                "images",
                &WrapRequest {
                    plaintext: B64(vec![7; 32]),
                },
            )
            .await
    });
    assert_eq!(wrapped.unwrap().key_id, key_id);

    // --out: a new 0600 file, and the listing never shows a secret.
    let out = p.dir.path().join("second.token");
    let listed = p.ok(&[
        "token",
        "create",
        "--name",
        "second",
        "--role",
        "viewer",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!listed.contains("irt_"), "{listed}");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let list = p.ok(&["token", "list"]);
    assert!(
        list.contains("ci-builder") && list.contains("second"),
        "{list}"
    );
    assert!(!list.contains(&token), "{list}");

    let id = token.split('_').nth(1).unwrap();
    p.ok(&["token", "revoke", id]);
    let err = p.fails(&["whoami", "--token-file", file]);
    assert!(
        err.contains("Unauthenticated") || err.contains("401"),
        "{err}"
    );
}
