//! Real services on loopback, the `ironroot` binary run against them, and a one-shot
//! webhook receiver: what the tamper tests act on.

use ironroot_server::{EkCertPolicy, ServerConfig, Service};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The log's seed file in a service's data directory (docs/audit.md).
pub const LOG_SEED: &str = "audit-log-ed25519.seed";

pub struct Lab {
    services: Vec<Service>,
    pub runtime: tokio::runtime::Runtime,
    pub dir: tempfile::TempDir,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _guard = self.runtime.enter();
        self.services.clear();
    }
}

/// One service of the lab: where it listens and its data directory.
#[derive(Clone)]
pub struct Svc {
    pub url: String,
    pub data: PathBuf,
}

impl Lab {
    pub fn new() -> Lab {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        Lab {
            services: Vec::new(),
            runtime,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts a service with its data in `name` and `database` (None: SQLite there). With
    /// `log_seed`, it signs its log with that key (as a replica, or an impostor, would).
    pub fn start(&mut self, name: &str, database: Option<String>, log_seed: Option<&Path>) -> Svc {
        let data = self.path(name);
        std::fs::create_dir_all(&data).unwrap();
        if let Some(seed) = log_seed {
            std::fs::copy(seed, data.join(LOG_SEED)).unwrap();
        }
        let mut config = ServerConfig::new(data.clone());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.ek_cert_policy = EkCertPolicy::IfPresent;
        config.database = database;
        let service = self.runtime.block_on(Service::start(config)).unwrap();
        let svc = Svc {
            url: format!("https://{}", service.addr),
            data,
        };
        self.services.push(service);
        svc
    }
}

/// `ironroot ARGS` as `svc`'s administrator.
pub fn ironroot(svc: &Svc, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ironroot"))
        .args(args)
        .env("IRONROOT_SERVER", &svc.url)
        .env("IRONROOT_CA", svc.data.join("ca.pem"))
        .env("IRONROOT_TOKEN_FILE", svc.data.join("admin.token"))
        .output()
        .unwrap()
}

/// `ironroot ARGS`, which must succeed: its standard output.
pub fn ok(svc: &Svc, args: &[&str]) -> String {
    let o = ironroot(svc, args);
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Registers clusters `names` (each adds entries to the log; no TPM needed).
pub fn register(lab: &Lab, svc: &Svc, names: &[&str]) {
    for name in names {
        let out = lab.path(&format!("{name}-identity"));
        ok(svc, &["cluster", "register", name, "--out", s(&out)]);
    }
}

/// The service's admin client (for the public log routes).
pub fn client(svc: &Svc) -> ironroot_client::Client {
    let ca = std::fs::read(svc.data.join("ca.pem")).unwrap();
    let token = std::fs::read_to_string(svc.data.join("admin.token")).unwrap();
    ironroot_client::Client::admin(
        &svc.url,
        &ca,
        token.trim(),
        ironroot_client::PlainHttp::Refused,
    )
    .unwrap()
}

/// The log's key as `svc` publishes it, written to `path` (what a witness pins).
pub fn save_log_key(lab: &Lab, svc: &Svc, path: &Path) -> String {
    let key = lab.runtime.block_on(client(svc).audit_key()).unwrap();
    std::fs::write(path, format!("{key}\n")).unwrap();
    key
}

/// A witness's files in `lab`'s directory under `name`.
pub struct WitnessFiles {
    pub state: PathBuf,
    pub key: PathBuf,
    pub out: PathBuf,
}

impl WitnessFiles {
    pub fn new(lab: &Lab, name: &str) -> WitnessFiles {
        WitnessFiles {
            state: lab.path(&format!("{name}.state")),
            key: lab.path(&format!("{name}.key")),
            out: lab.path(&format!("{name}-out")),
        }
    }
}

/// One round of `ironroot audit witness` against `svc`, pinning `log_key`.
pub fn witness_once(svc: &Svc, w: &WitnessFiles, log_key: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        "witness",
        "--once",
        "--log-key",
        s(log_key),
        "--witness-key",
        s(&w.key),
        "--name",
        "witness.test/w1",
        "--state",
        s(&w.state),
        "--out",
        s(&w.out),
    ];
    args.extend(extra);
    ironroot(svc, &args)
}

/// Accepts one HTTP request on a loopback port, answers 204 and hands over its body.
pub struct Receiver {
    pub url: String,
    body: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/alert", listener.local_addr().unwrap());
        let (tx, body) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap();
                    }
                }
            }
            let mut buf = vec![0; length];
            reader.read_exact(&mut buf).unwrap();
            let mut stream = stream;
            stream
                .write_all(
                    b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .unwrap();
            let _ = tx.send(buf);
        });
        Receiver { url, body }
    }

    /// The JSON body received, waiting at most a few seconds.
    pub fn json(&self) -> serde_json::Value {
        let body = self
            .body
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the webhook received nothing");
        serde_json::from_slice(&body).unwrap()
    }
}
