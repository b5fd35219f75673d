//! The `--key` arguments, with skopeo's syntax: `jwe:FILE.pem` and `provider:NAME[:ARGS]`.

use super::ImageError;
use ironroot_keyprovider::{KeySpec, DEFAULT_NAME};
use ironroot_ocicrypt::{JwePrivateKey, JwePublicKey};
use std::path::Path;

/// Recipients of an encryption: every layer key is wrapped for all of them.
pub struct EncryptKeys {
    pub jwe: Vec<JwePublicKey>,
    /// At most one: a layer is sealed under one broker key.
    pub provider: Option<KeySpec>,
}

/// Keys a decryption may use; each layer is opened by the first that fits.
pub struct DecryptKeys {
    pub jwe: Vec<JwePrivateKey>,
    pub provider: bool,
}

enum KeyArg<'a> {
    Jwe(&'a Path),
    Provider {
        name: &'a str,
        args: Option<&'a str>,
    },
}

fn parse(arg: &str, plain_path_is_jwe: bool) -> Result<KeyArg<'_>, ImageError> {
    if let Some(path) = arg.strip_prefix("jwe:") {
        return Ok(KeyArg::Jwe(Path::new(path)));
    }
    if let Some(rest) = arg.strip_prefix("provider:") {
        let (name, args) = match rest.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (rest, None),
        };
        if name != DEFAULT_NAME {
            return Err(ImageError::Key(format!(
                "{arg:?}: only provider:{DEFAULT_NAME} is built in; for other key providers \
                 use skopeo with OCICRYPT_KEYPROVIDER_CONFIG"
            )));
        }
        return Ok(KeyArg::Provider { name, args });
    }
    if plain_path_is_jwe && !arg.contains(':') {
        return Ok(KeyArg::Jwe(Path::new(arg)));
    }
    Err(ImageError::Key(format!(
        "{arg:?} is not a key: give jwe:FILE.pem or provider:{DEFAULT_NAME}[:ARGS] \
         (pkcs7, pgp and pkcs11 recipients are not supported)"
    )))
}

fn read_pem(path: &Path) -> Result<Vec<u8>, ImageError> {
    std::fs::read(path).map_err(|e| ImageError::io(path.display().to_string(), e))
}

impl EncryptKeys {
    pub fn parse(args: &[String]) -> Result<EncryptKeys, ImageError> {
        let mut keys = EncryptKeys {
            jwe: Vec::new(),
            provider: None,
        };
        for arg in args {
            match parse(arg, false)? {
                KeyArg::Jwe(path) => {
                    let pem = read_pem(path)?;
                    let key = JwePublicKey::from_pem(&pem).map_err(|e| {
                        ImageError::Key(format!(
                            "{}: {e} (encryption takes a PUBLIC KEY PEM, RSA or EC P-256/P-384)",
                            path.display()
                        ))
                    })?;
                    keys.jwe.push(key);
                }
                KeyArg::Provider { name, args } => {
                    let spec = KeySpec::parse(args.unwrap_or_default().as_bytes())
                        .map_err(|e| ImageError::Key(e.to_string()))?;
                    if keys.provider.replace(spec).is_some() {
                        return Err(ImageError::Key(format!(
                            "give one provider:{name} key: a layer is sealed under one broker key"
                        )));
                    }
                }
            }
        }
        if keys.jwe.is_empty() && keys.provider.is_none() {
            return Err(ImageError::Key("no --key given".into()));
        }
        Ok(keys)
    }
}

impl DecryptKeys {
    pub fn parse(args: &[String]) -> Result<DecryptKeys, ImageError> {
        let mut keys = DecryptKeys {
            jwe: Vec::new(),
            provider: false,
        };
        for arg in args {
            match parse(arg, true)? {
                KeyArg::Jwe(path) => {
                    let pem = read_pem(path)?;
                    let key = JwePrivateKey::from_pem(&pem).map_err(|e| {
                        ImageError::Key(format!(
                            "{}: {e} (decryption takes an unencrypted PRIVATE KEY PEM)",
                            path.display()
                        ))
                    })?;
                    keys.jwe.push(key);
                }
                KeyArg::Provider { .. } => keys.provider = true,
            }
        }
        if keys.jwe.is_empty() && !keys.provider {
            return Err(ImageError::Key("no --key given".into()));
        }
        Ok(keys)
    }
}

/// Where the service is, for `provider:ironroot` encryption (the admin conventions).
pub use crate::cmd::admin::MaybeConn as BrokerConn;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_arguments_follow_skopeo() {
        let k = EncryptKeys::parse(&["provider:ironroot:eu-app+tag:region=EU".into()]).unwrap();
        assert_eq!(k.provider.unwrap().name, "eu-app");
        let two = ["provider:ironroot:a".into(), "provider:ironroot:b".into()];
        assert!(EncryptKeys::parse(&two).is_err());
        for bad in [
            "provider:other:x",
            "pgp:alice",
            "provider:ironroot",
            "rsa.pem",
        ] {
            assert!(EncryptKeys::parse(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(EncryptKeys::parse(&[]).is_err());
        assert!(
            DecryptKeys::parse(&["provider:ironroot".into()])
                .unwrap()
                .provider
        );
        assert!(DecryptKeys::parse(&["/nonexistent/priv.pem".into()]).is_err());
    }
}
