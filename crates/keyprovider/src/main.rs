//! `ironroot-keyprovider`: ocicrypt's key provider for ironroot, for skopeo, podman,
//! buildah, cri-o and containerd. See the crate documentation and `--help`.

use clap::{Parser, Subcommand};
use ironroot_client::url::PlainHttp;
use ironroot_keyprovider::broker::BrokerWrapper;
use ironroot_keyprovider::command::{run_once, AgentSocketUnwrapper};
use ironroot_keyprovider::grpc::{self, Client};
use ironroot_keyprovider::{Handler, ProviderError, Unwrapper, Wrapper, DEFAULT_NAME};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The ironroot key provider for encrypted container images (ocicrypt's keyprovider protocol).
///
/// Encrypting (build hosts): layers are sealed by the ironroot key broker under a named key,
/// created on first use with a transfer policy; the build host never holds the key:
///
///   skopeo copy --encryption-key provider:ironroot:eu-app+tag:region=EU oci:app docker://reg/app:enc
///
/// Decrypting (nodes): the node's agent obtains the key with a fresh TPM attestation, and only if
/// the key's policy admits the node (trusted, the right asset tags and flavor group):
///
///   skopeo copy --decryption-key provider:ironroot docker://reg/app:enc containers-storage:app
///
/// ocicrypt finds providers in the file named by OCICRYPT_KEYPROVIDER_CONFIG, e.g.
///
///   {"key-providers": {"ironroot": {"cmd": {"path": "/usr/bin/ironroot-keyprovider",
///       "args": ["--server", "https://ironroot:8443", "--ca", "/etc/ironroot/ca.pem",
///                "--token-file", "/etc/ironroot/token"]}}}}          (build host)
///   {"key-providers": {"ironroot": {"grpc": "unix:///run/ironroot/keyprovider.sock"}}}  (node: the agent serves it)
///
/// Run without a subcommand, it answers one request on stdin (the command transport).
#[derive(Parser)]
#[command(name = "ironroot-keyprovider", version, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    opts: Opts,
}

#[derive(clap::Args)]
struct Opts {
    /// The provider's name: the NAME in provider:NAME, as in the ocicrypt configuration.
    #[arg(long, default_value = DEFAULT_NAME, global = true)]
    name: String,
    /// The ironroot service (key broker) URL; with --ca and --token-file, enables encryption.
    #[arg(long, env = "IRONROOT_SERVER", global = true)]
    server: Option<String>,
    /// PEM file with the service's CA certificate.
    #[arg(long, env = "IRONROOT_CA", global = true)]
    ca: Option<PathBuf>,
    /// File holding the service's admin token (mode 0600; never put the token itself in a flag).
    #[arg(long, env = "IRONROOT_TOKEN_FILE", global = true)]
    token_file: Option<PathBuf>,
    /// Allow a plain http:// --server, only at a loopback address (127.0.0.1, [::1]): the
    /// admin token then crosses loopback in clear. For development; never over a network.
    #[arg(long, global = true)]
    insecure_http_loopback: bool,
    /// The node agent's keyprovider socket, for decryption (the agent holds the TPM).
    #[arg(
        long,
        env = "IRONROOT_KEYPROVIDER_SOCKET",
        default_value = "/run/ironroot/keyprovider.sock",
        global = true
    )]
    agent_socket: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gRPC transport (keyprovider.KeyProviderService) on a unix socket, e.g. for a
    /// build host's buildah or for containerd; decryption is forwarded to --agent-socket.
    Serve {
        /// The socket to create (mode 0600).
        #[arg(long)]
        socket: PathBuf,
    },
}

fn handler(o: &Opts, forward_unwrap: bool) -> Result<Handler, ProviderError> {
    let wrapper: Option<Arc<dyn Wrapper>> = match (&o.server, &o.ca, &o.token_file) {
        (Some(server), Some(ca), Some(token)) => {
            let read = |p: &PathBuf, what: &str| {
                std::fs::read(p).map_err(|e| {
                    ProviderError::NotConfigured(format!("reading {what} {}: {e}", p.display()))
                })
            };
            let ca = read(ca, "the service CA")?;
            let token = zeroize::Zeroizing::new(read(token, "the admin token")?);
            let token = std::str::from_utf8(&token).map_err(|_| {
                ProviderError::NotConfigured("the admin token file is not text".into())
            })?;
            Some(Arc::new(BrokerWrapper::with_plain_http(
                server,
                &ca,
                token,
                PlainHttp::from_flag(o.insecure_http_loopback),
            )?))
        }
        (None, None, None) => None,
        _ => {
            return Err(ProviderError::NotConfigured(
                "to encrypt, give all of --server, --ca and --token-file".into(),
            ))
        }
    };
    let unwrapper: Option<Arc<dyn Unwrapper>> = forward_unwrap.then(|| {
        Arc::new(AgentSocketUnwrapper::new(Client::new(
            o.agent_socket.clone(),
        ))) as _
    });
    Ok(Handler::new(&o.name, wrapper, unwrapper))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // stdout is the protocol: logs go to stderr, warnings only unless RUST_LOG says more.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ironroot-keyprovider: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        let h = handler(&cli.opts, true)?;
        match cli.command {
            None => run_once(&h, tokio::io::stdin(), tokio::io::stdout()).await,
            Some(Command::Serve { socket }) => {
                grpc::serve(&socket, h, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ironroot-keyprovider: {e}");
            ExitCode::FAILURE
        }
    }
}
