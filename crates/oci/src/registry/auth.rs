//! Registry credentials, read where podman, skopeo and docker keep them, so that
//! `ironroot scan`, `sign` and `verify` reach a private registry after an ordinary
//! `podman login` / `skopeo login` / `docker login`.
//!
//! The files are read in the order of containers-auth.json(5): `$REGISTRY_AUTH_FILE`,
//! `$XDG_RUNTIME_DIR/containers/auth.json`, `$XDG_CONFIG_HOME/containers/auth.json`
//! (`~/.config/...`), then docker's `$DOCKER_CONFIG/config.json` (`~/.docker/...`). In
//! each, the most specific key wins: `host/namespace/repo`, then `host/namespace`, then
//! `host` (docker's `https://host/v1/` style keys are read as `host`). The first file with
//! a matching entry decides. Credential helpers (`credHelpers`, `credsStore`) are not
//! run: a registry that only has a helper is an error that says so, never a silent
//! anonymous pull. Written here because oci-client takes credentials but does not find
//! them, and no maintained crate reads these files.

use super::RegistryError;
use base64::Engine;
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Larger files are refused (real ones hold a few entries).
const MAX_FILE: u64 = 1 << 20;

#[derive(Deserialize, Default)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, Entry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct Entry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// What one file says about a repository.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    Basic { user: String, password: String },
    Helper(String),
    Nothing,
}

/// `https://host/v1/` → `host`; `host/ns/repo` as it is.
fn normalize(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    match k.split_once('/') {
        // docker's legacy keys carry the API path, not a repository.
        Some((host, "v1/" | "v1" | "v2/" | "v2" | "")) => host,
        _ => k,
    }
}

/// The keys to try for `registry`/`repository`, most specific first.
fn candidates(registry: &str, repository: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let parts: Vec<&str> = repository.split('/').collect();
    for n in (1..=parts.len()).rev() {
        keys.push(format!("{registry}/{}", parts[..n].join("/")));
    }
    keys.push(registry.to_owned());
    keys
}

fn fail<T>(why: String) -> Result<T, RegistryError> {
    Err(RegistryError::Credentials(why))
}

fn lookup(bytes: &[u8], registries: &[&str], repository: &str) -> Result<Found, RegistryError> {
    let file: AuthFile = serde_json::from_slice(bytes)
        .map_err(|e| RegistryError::Credentials(format!("not an auth.json: {e}")))?;
    let by_key: BTreeMap<&str, &Entry> =
        file.auths.iter().map(|(k, v)| (normalize(k), v)).collect();
    for registry in registries {
        for key in candidates(registry, repository) {
            if let Some(e) = by_key.get(key.as_str()) {
                return entry(e, &key);
            }
        }
    }
    for registry in registries {
        if let Some(h) = file.cred_helpers.get(*registry) {
            return Ok(Found::Helper(h.clone()));
        }
    }
    Ok(file.creds_store.map_or(Found::Nothing, Found::Helper))
}

fn entry(e: &Entry, key: &str) -> Result<Found, RegistryError> {
    if e.identity_token.as_deref().is_some_and(|t| !t.is_empty()) {
        return fail(format!("the entry for {key} holds an identity token, which ironroot does not use: log in with a user name and password"));
    }
    if let Some(auth) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| {
                RegistryError::Credentials(format!("the entry for {key}: `auth` is not base64"))
            })?;
        let text = String::from_utf8(raw).map_err(|_| {
            RegistryError::Credentials(format!("the entry for {key}: `auth` is not UTF-8"))
        })?;
        let Some((user, password)) = text.split_once(':') else {
            return fail(format!("the entry for {key}: `auth` is not user:password"));
        };
        return Ok(Found::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        });
    }
    match (&e.username, &e.password) {
        (Some(user), Some(password)) => Ok(Found::Basic {
            user: user.clone(),
            password: password.clone(),
        }),
        _ => fail(format!("the entry for {key} has no credentials")),
    }
}

fn files() -> Vec<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(f) = env("REGISTRY_AUTH_FILE") {
        return vec![f];
    }
    let home = env("HOME");
    let mut out = Vec::new();
    if let Some(run) = env("XDG_RUNTIME_DIR") {
        out.push(run.join("containers/auth.json"));
    }
    if let Some(cfg) = env("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config"))) {
        out.push(cfg.join("containers/auth.json"));
    }
    if let Some(d) = env("DOCKER_CONFIG").or_else(|| home.as_ref().map(|h| h.join(".docker"))) {
        out.push(d.join("config.json"));
    }
    out
}

/// The credentials for `reference`'s repository, or anonymous access when no file names
/// its registry.
pub fn for_reference(reference: &Reference) -> Result<RegistryAuth, RegistryError> {
    let explicit = std::env::var_os("REGISTRY_AUTH_FILE").is_some_and(|v| !v.is_empty());
    let mut registries = vec![reference.registry()];
    if reference.resolve_registry() != reference.registry() {
        registries.push(reference.resolve_registry());
    }
    if reference.registry() == "docker.io" {
        registries.push("index.docker.io");
        registries.push("registry-1.docker.io");
    }
    for path in files() {
        let bytes = match std::fs::metadata(&path) {
            Ok(m) if m.len() > MAX_FILE => {
                return fail(format!(
                    "{}: larger than {MAX_FILE} bytes, not a credentials file",
                    path.display()
                ))
            }
            Ok(_) => std::fs::read(&path).map_err(|e| RegistryError::Io {
                what: path.display().to_string(),
                source: e,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => continue,
            Err(e) => {
                return Err(RegistryError::Io {
                    what: format!("REGISTRY_AUTH_FILE {}", path.display()),
                    source: e,
                })
            }
        };
        match lookup(&bytes, &registries, reference.repository())
            .map_err(|e| RegistryError::Credentials(format!("{}: {e}", path.display())))?
        {
            Found::Basic { user, password } => return Ok(RegistryAuth::Basic(user, password)),
            Found::Helper(helper) => return fail(format!(
                "{} names the credential helper docker-credential-{helper} for {}, and ironroot does not run credential helpers: \
                 log in with `podman login` or `skopeo login` (or set REGISTRY_AUTH_FILE to a file that holds the credentials)",
                path.display(),
                reference.registry()
            )),
            Found::Nothing => {}
        }
    }
    Ok(RegistryAuth::Anonymous)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn basic(user: &str, password: &str) -> Found {
        Found::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    // base64("alice:pw:with:colons"), base64("bob:hunter2"), base64("carol:x")
    const FILE: &str = r#"{"auths": {
        "reg.example:5000": {"auth": "YWxpY2U6cHc6d2l0aDpjb2xvbnM="},
        "reg.example:5000/team": {"auth": "Ym9iOmh1bnRlcjI="},
        "https://index.docker.io/v1/": {"auth": "Y2Fyb2w6eA=="},
        "plain.example": {"username": "dave", "password": "p"}
    }, "credHelpers": {"gcr.io": "gcloud"}}"#;

    #[test]
    fn the_most_specific_key_wins_and_docker_keys_are_read_as_hosts() {
        let f = FILE.as_bytes();
        assert_eq!(
            lookup(f, &["reg.example:5000"], "team/app").unwrap(),
            basic("bob", "hunter2")
        );
        assert_eq!(
            lookup(f, &["reg.example:5000"], "other/app").unwrap(),
            basic("alice", "pw:with:colons")
        );
        assert_eq!(
            lookup(f, &["docker.io", "index.docker.io"], "library/debian").unwrap(),
            basic("carol", "x")
        );
        assert_eq!(
            lookup(f, &["plain.example"], "a").unwrap(),
            basic("dave", "p")
        );
        assert_eq!(lookup(f, &["elsewhere"], "a").unwrap(), Found::Nothing);
        assert_eq!(
            lookup(f, &["gcr.io"], "p/a").unwrap(),
            Found::Helper("gcloud".into())
        );
        assert_eq!(
            lookup(br#"{"credsStore": "desktop"}"#, &["x"], "a").unwrap(),
            Found::Helper("desktop".into())
        );
    }

    #[test]
    fn malformed_entries_are_errors_that_do_not_echo_secrets() {
        for (file, want) in [
            (r#"{"auths": {"r": {"auth": "%%%"}}}"#, "not base64"),
            (
                r#"{"auths": {"r": {"auth": "bm9jb2xvbg=="}}}"#,
                "not user:password",
            ),
            (
                r#"{"auths": {"r": {"identitytoken": "tok-secret"}}}"#,
                "identity token",
            ),
            (r#"{"auths": {"r": {}}}"#, "no credentials"),
            (r#"{"auths": []}"#, "not an auth.json"),
        ] {
            let e = lookup(file.as_bytes(), &["r"], "a")
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{file}: {e}");
            assert!(!e.contains("secret") && !e.contains("nocolon"), "{e}");
        }
    }
}
