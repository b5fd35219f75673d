//! `ironroot login`: a person signs in with the OpenID Connect provider the service trusts,
//! by the device flow (RFC 8628), and the ID token is saved for the other commands'
//! `--token-file`. The token is verified (signature, issuer, audience, expiry) before it
//! is written, written 0600 and atomically, and never printed or logged.

use super::login_device::{classify, slowed, DeviceAuthorization, Poll, GRANT_TYPE, SCOPE};
use anyhow::{bail, Context};
use ironroot_oidc::{Provider, ProviderConfig};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Sign in with OpenID Connect and save the ID token.
///
/// Uses the provider's device flow: the command prints a web address and a code; open
/// the address in any browser (on this machine or another), enter the code and sign in.
/// The command waits meanwhile, then verifies the ID token and saves it (mode 0600) to
/// --token-file. Every other command takes that file as its `--token-file` (or
/// IRONROOT_TOKEN_FILE): the service accepts a person's ID token as a bearer credential
/// when an administrator bound the person's verified e-mail address to a role
/// (`ironroot person bind`). ID tokens are short-lived: sign in again when it expires.
///
/// Example: ironroot login --issuer https://dex.example.com/dex --client-id ironroot
///          ironroot whoami --token-file ~/.config/ironroot/token
#[derive(clap::Args)]
pub struct Args {
    /// The provider's issuer URL: the service's --oidc-issuer. https://, or http:// on a
    /// loopback address only.
    #[arg(long, env = "IRONROOT_OIDC_ISSUER")]
    issuer: String,
    /// The client id registered with the provider: the service's --oidc-client-id (the ID
    /// token's audience must be it).
    #[arg(long, env = "IRONROOT_OIDC_CLIENT_ID")]
    client_id: String,
    /// A file holding the client's secret, for providers that register the command line
    /// as a confidential client (Dex's static clients); a public client needs none.
    #[arg(long, env = "IRONROOT_OIDC_CLIENT_SECRET_FILE")]
    client_secret_file: Option<PathBuf>,
    /// PEM trust anchors for an https:// issuer (default: the system's).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Where the ID token is saved (replaced atomically, mode 0600).
    /// Default: $XDG_CONFIG_HOME/ironroot/token, or ~/.config/ironroot/token.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

pub async fn run(a: Args) -> anyhow::Result<ExitCode> {
    let token_file = match a.token_file {
        Some(f) => f,
        None => default_token_file()?,
    };
    let secret = match &a.client_secret_file {
        Some(f) => Some(Zeroizing::new(
            std::fs::read_to_string(f)
                .with_context(|| format!("reading {}", f.display()))?
                .trim_end_matches(['\n', '\r'])
                .to_owned(),
        )),
        None => None,
    };
    let roots = match &a.ca {
        Some(f) => ironroot_tls::roots_from_pem(
            &std::fs::read(f).with_context(|| format!("reading {}", f.display()))?,
        )
        .with_context(|| format!("{}", f.display()))?,
        None => ironroot_tls::system_roots()?,
    };
    let mut config = ProviderConfig::new(&a.issuer, &a.client_id);
    config.roots = Some(roots.clone());
    let provider = Provider::discover(config)
        .await
        .with_context(|| format!("discovering the provider {}", a.issuer))?;
    let meta = provider.metadata();
    let (Some(device_url), Some(token_url)) = (
        meta.device_authorization_endpoint.clone(),
        meta.token_endpoint.clone(),
    ) else {
        bail!(
            "the provider {} offers no device flow (its discovery document has no \
             device_authorization_endpoint or token_endpoint)",
            a.issuer
        );
    };
    let http = ironroot_client::https_client(roots, None, TIMEOUT)?;
    let flow = Flow {
        http,
        client_id: a.client_id,
        secret,
    };
    let device = flow.start(&device_url).await?;
    prompt(&device);
    let id_token = flow.wait(&token_url, &device).await?;
    let id = provider
        .verify(&id_token, None)
        .await
        .context("the provider's ID token did not verify")?;
    let email = match (&id.email, id.email_verified) {
        (Some(e), Some(true)) => e.clone(),
        _ => bail!(
            "the ID token has no verified e-mail address, which the service binds people by \
             (ask the provider's administrator to release the email claim)"
        ),
    };
    save(&token_file, &id_token)?;
    eprintln!(
        "Signed in as {} until {}. ID token saved to {}.\nUse it with: ironroot whoami --token-file {}",
        ironroot_client::printable(&email),
        ironroot_timestamp::rfc3339::format(id.expires_at),
        token_file.display(),
        token_file.display(),
    );
    Ok(ExitCode::SUCCESS)
}

fn prompt(d: &DeviceAuthorization) {
    eprintln!(
        "To sign in, open {} in a browser and enter the code {}",
        d.verification_uri,
        ironroot_client::printable(&d.user_code)
    );
    if let Some(complete) = &d.verification_uri_complete {
        eprintln!("(or open {complete})");
    }
    eprintln!(
        "Waiting for the sign-in (the code expires in {} s)...",
        d.expires_in.as_secs()
    );
}

/// The client side of one device flow.
struct Flow {
    http: reqwest::Client,
    client_id: String,
    secret: Option<Zeroizing<String>>,
}

impl Flow {
    /// The form every request carries: the client, and its secret if it has one
    /// (`client_secret_post`, RFC 6749 section 2.3.1).
    fn form<'a>(&'a self, mut pairs: Vec<(&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
        pairs.push(("client_id", &self.client_id));
        if let Some(s) = &self.secret {
            pairs.push(("client_secret", s.as_str()));
        }
        pairs
    }

    async fn start(&self, url: &reqwest::Url) -> anyhow::Result<DeviceAuthorization> {
        let (status, body) = self.post(url, self.form(vec![("scope", SCOPE)])).await?;
        if !(200..300).contains(&status) {
            match classify(status, &body) {
                Poll::Failed(why) => bail!("the device authorization was refused: {why}"),
                _ => bail!("the device authorization endpoint answered HTTP {status}"),
            }
        }
        Ok(DeviceAuthorization::from_json(&body)?)
    }

    /// Polls until the person signed in, honouring `interval` and `slow_down`, and gives
    /// up when the code expires.
    async fn wait(
        &self,
        url: &reqwest::Url,
        d: &DeviceAuthorization,
    ) -> anyhow::Result<Zeroizing<String>> {
        let deadline = Instant::now() + d.expires_in;
        let mut interval = d.interval;
        loop {
            tokio::time::sleep(interval).await;
            if Instant::now() >= deadline {
                bail!("the code expired before the sign-in finished; run ironroot login again");
            }
            let form = self.form(vec![
                ("grant_type", GRANT_TYPE),
                ("device_code", d.device_code.as_str()),
            ]);
            let (status, body) = self.post(url, form).await?;
            match classify(status, &body) {
                Poll::IdToken(t) => return Ok(t),
                Poll::Pending => {}
                Poll::SlowDown => interval = slowed(interval),
                Poll::Failed(why) => bail!("{why}"),
            }
        }
    }

    /// POSTs `form` and reads at most `MAX_ANSWER_BYTES` of the answer.
    async fn post(
        &self,
        url: &reqwest::Url,
        form: Vec<(&str, &str)>,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut resp = self
            .http
            .post(url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {}", ironroot_client::error_chain(&e)))?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .with_context(|| format!("reading {url}"))?
        {
            if body.len() + chunk.len() > super::login_device::MAX_ANSWER_BYTES {
                bail!(
                    "{url} sent more than {} bytes",
                    super::login_device::MAX_ANSWER_BYTES
                );
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }
}

/// `$XDG_CONFIG_HOME/ironroot/token`, else `$HOME/.config/ironroot/token`.
fn default_token_file() -> anyhow::Result<PathBuf> {
    let base = match (
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    ) {
        (Some(x), _) if !x.is_empty() => PathBuf::from(x),
        (_, Some(h)) if !h.is_empty() => PathBuf::from(h).join(".config"),
        _ => bail!("neither XDG_CONFIG_HOME nor HOME is set: give --token-file"),
    };
    Ok(base.join("ironroot").join("token"))
}

/// Writes `token` to `path` through a 0600 file in the same directory renamed over it,
/// so a reader sees the old token or the new one, never half of one.
fn save(path: &Path, token: &str) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    // tempfile creates its files 0600.
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    tmp.write_all(token.as_bytes())
        .and_then(|()| tmp.write_all(b"\n"))
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| anyhow::anyhow!("saving {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_token_file_is_replaced_atomically_and_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new-dir").join("token");
        save(&path, "a.b.c").unwrap();
        save(&path, "d.e.f").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "d.e.f\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
