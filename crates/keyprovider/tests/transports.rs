//! Both transports carry ocicrypt's JSON to the handler and its errors back: gRPC on a
//! real unix socket (tonic client and server), and the command binary on stdin/stdout.
//! The broker and the TPM are stood in for by a fixed key here; the end-to-end tests
//! (crates/e2e/tests/encrypted_images.rs) run the real ones with skopeo.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use ironroot_api::B64;
use ironroot_keyprovider::grpc::{self, Client};
use ironroot_keyprovider::{
    open_packet, BoxFuture, Handler, KeySpec, Packet, ProviderError, Unwrapper, Wrapper,
};
use ironroot_ocicrypt::keyprovider::{parse_unwrap_response, parse_wrap_response};
use ironroot_ocicrypt::{KeyProviderRequest, ProviderKeySpec};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use zeroize::Zeroizing;

const KEY: [u8; 32] = [42; 32];
const KEY_ID: &str = "5f0c3a52-6a43-4d0e-8f0e-0d3f6a1b2c3d";

struct FixedKey;

impl Wrapper for FixedKey {
    fn wrap<'a>(
        &'a self,
        key: &'a KeySpec,
        opts: &'a [u8],
    ) -> BoxFuture<'a, Result<Packet, ProviderError>> {
        Box::pin(async move {
            if key.name == "refuse-me" {
                return Err(ProviderError::Refused("the broker refused: no".into()));
            }
            let s = ironroot_crypto::aes_gcm_seal(&KEY, KEY_ID.as_bytes(), opts).unwrap();
            let mut ct = s.ciphertext;
            ct.extend_from_slice(&s.tag);
            Packet::from_blob(
                ironroot_api::WrappedBlob {
                    key_id: KEY_ID.into(),
                    iv: B64(s.iv.to_vec()),
                    ciphertext: B64(ct),
                },
                &key.name,
            )
            .map_err(ProviderError::from)
        })
    }
}

impl Unwrapper for FixedKey {
    fn unwrap<'a>(
        &'a self,
        p: &'a Packet,
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderError>> {
        Box::pin(async move { open_packet(&KEY, p) })
    }
}

fn temp_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ironroot-kp-{tag}-"))
        .tempdir()
        .unwrap()
}

fn wrap_request(spec: &str, opts: &[u8]) -> Vec<u8> {
    let mut parameters = BTreeMap::new();
    ProviderKeySpec::parse(spec)
        .unwrap()
        .add_to(&mut parameters);
    KeyProviderRequest::Wrap {
        parameters,
        optsdata: opts.into(),
    }
    .to_json()
    .unwrap()
    .to_vec()
}

fn unwrap_request(annotation: Vec<u8>) -> Vec<u8> {
    KeyProviderRequest::Unwrap {
        parameters: BTreeMap::new(),
        annotation,
    }
    .to_json()
    .unwrap()
    .to_vec()
}

#[tokio::test]
async fn grpc_wraps_and_unwraps_on_a_unix_socket_and_carries_errors() {
    let tmp = temp_dir("grpc");
    let dir = tmp.path();
    let socket = dir.join("kp.sock");
    let h = Handler::new(
        "ironroot",
        Some(Arc::new(FixedKey)),
        Some(Arc::new(FixedKey)),
    );
    let listener = grpc::bind(&socket).unwrap();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(grpc::serve_listener(listener, h, async {
        let _ = stopped.await;
    }));
    let c = Client::new(&socket);

    let opts = br#"{"cipher":"AES_256_CTR_HMAC_SHA256","cipheroptions":{}}"#;
    let reply = c
        .call(
            wrap_request("provider:ironroot:eu-app+tag:region=EU", opts),
            false,
        )
        .await
        .unwrap();
    let annotation = parse_wrap_response(&reply).unwrap();
    let packet = Packet::parse(&annotation).unwrap();
    assert_eq!(
        (packet.key_name.as_str(), packet.key_id.as_str()),
        ("eu-app", KEY_ID)
    );
    let reply = c
        .call(unwrap_request(annotation.clone()), true)
        .await
        .unwrap();
    assert_eq!(parse_unwrap_response(&reply).unwrap().expose(), opts);

    // Errors keep their kind and their words across the wire.
    let e = c
        .call(wrap_request("provider:ironroot:refuse-me", opts), false)
        .await
        .unwrap_err();
    assert_eq!(e, ProviderError::Refused("the broker refused: no".into()));
    let e = c.call(b"{not json".to_vec(), true).await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::Request(m) if m.contains("not valid")),
        "{e}"
    );
    let e = c
        .call(unwrap_request(annotation.clone()), false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("op does not match"), "{e}");
    let mut altered = Packet::parse(&annotation).unwrap();
    altered.ciphertext.0[0] ^= 1;
    let e = c
        .call(unwrap_request(altered.to_bytes().unwrap()), true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("annotation was altered"), "{e}");
    let e = c.call(vec![b' '; (1 << 20) + 1], true).await.unwrap_err();
    assert!(
        matches!(e, ProviderError::Internal(_) | ProviderError::Request(_)),
        "{e}"
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    let e = c.call(unwrap_request(annotation), true).await.unwrap_err();
    assert!(
        matches!(&e, ProviderError::Unreachable(m) if m.contains("--keyprovider-socket")),
        "{e}"
    );
    // A stale socket is replaced; any other file is not.
    drop(grpc::bind(&socket).unwrap());
    let file = dir.join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    assert!(grpc::bind(&file)
        .unwrap_err()
        .to_string()
        .contains("not a socket"));
}

fn run_command(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ironroot-keyprovider"))
        .args(args)
        .env_remove("IRONROOT_SERVER")
        .env_remove("IRONROOT_CA")
        .env_remove("IRONROOT_TOKEN_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The binary may stop reading early (too large): ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_transport_forwards_unwrap_to_the_agent_socket_and_explains_failures() {
    let tmp = temp_dir("cmd");
    let dir = tmp.path();
    let socket = dir.join("agent.sock");
    let listener = grpc::bind(&socket).unwrap();
    let h = Handler::new(
        "ironroot",
        Some(Arc::new(FixedKey)),
        Some(Arc::new(FixedKey)),
    );
    tokio::spawn(grpc::serve_listener(
        listener,
        h.clone(),
        std::future::pending(),
    ));
    let sock = socket.to_str().unwrap().to_owned();

    let opts = br#"{"cipher":"AES_256_CTR_HMAC_SHA256"}"#;
    let reply = h
        .handle(&wrap_request("provider:ironroot:eu-app+trusted", opts))
        .await
        .unwrap();
    let annotation = parse_wrap_response(&reply).unwrap();

    let req = unwrap_request(annotation.clone());
    let (ok, out, err) =
        tokio::task::spawn_blocking(move || run_command(&["--agent-socket", &sock], &req))
            .await
            .unwrap();
    assert!(ok, "{err}");
    assert_eq!(
        parse_unwrap_response(out.as_bytes()).unwrap().expose(),
        opts
    );

    let cases: Vec<(Vec<String>, Vec<u8>, &str)> = vec![
        (
            vec![],
            b"{\"op\":\"keywrap\"".to_vec(),
            "bad keyprovider request",
        ),
        (vec![], vec![b' '; (1 << 20) + 10], "larger than"),
        (
            vec![],
            br#"{"op":"keyunwrap","keyunwrapparams":{"annotation":"bm90IG91cnM="}}"#.to_vec(),
            "not an ironroot key packet",
        ),
        (
            vec![
                "--agent-socket".into(),
                dir.join("none.sock").display().to_string(),
            ],
            unwrap_request(annotation),
            "cannot reach the ironroot agent",
        ),
        (
            vec![],
            wrap_request("provider:ironroot:eu-app", opts),
            "does not encrypt",
        ),
        (
            vec!["--server".into(), "https://127.0.0.1:1".into()],
            wrap_request("provider:ironroot:eu-app", opts),
            "give all of --server, --ca and --token-file",
        ),
    ];
    for (args, stdin, want) in cases {
        let (ok, out, err) = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run_command(&args, &stdin)
        })
        .await
        .unwrap();
        assert!(!ok && out.is_empty(), "{want}: {out}");
        assert!(
            err.starts_with("ironroot-keyprovider: ") && err.contains(want),
            "{want}: {err}"
        );
    }
}
