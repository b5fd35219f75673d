//! The `--key` arguments, with skopeo's syntax (`jwe:FILE.pem` and `provider:NAME[:ARGS]`),
//! and ironroot's key provider adapted to the image library: the broker seals layer keys,
//! the node's agent opens them, and inspect reads which broker key sealed a layer.

use ironroot_imagecrypt::{
    BoxFuture, LayerKeyOpener, LayerKeySealer, ProviderFailure, SealedKey, SealedKeyNames,
};
use ironroot_keyprovider::{KeySpec, Packet, Unwrapper, Wrapper, DEFAULT_NAME};
use ironroot_oci::ImageError;
use ironroot_ocicrypt::{JwePrivateKey, JwePublicKey};
use std::path::Path;
use zeroize::Zeroizing;

/// The `--key` arguments of `image encrypt`.
pub struct EncryptKeyArgs {
    pub jwe: Vec<JwePublicKey>,
    /// At most one: a layer is sealed under one broker key.
    pub provider: Option<KeySpec>,
}

/// The `--key` arguments of `image decrypt`.
pub struct DecryptKeyArgs {
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

fn parse(arg: &str, plain_path_is_jwe: bool) -> anyhow::Result<KeyArg<'_>> {
    if let Some(path) = arg.strip_prefix("jwe:") {
        return Ok(KeyArg::Jwe(Path::new(path)));
    }
    if let Some(rest) = arg.strip_prefix("provider:") {
        let (name, args) = match rest.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (rest, None),
        };
        if name != DEFAULT_NAME {
            anyhow::bail!(
                "{arg:?}: only provider:{DEFAULT_NAME} is built in; for other key providers \
                 use skopeo with OCICRYPT_KEYPROVIDER_CONFIG"
            );
        }
        return Ok(KeyArg::Provider { name, args });
    }
    if plain_path_is_jwe && !arg.contains(':') {
        return Ok(KeyArg::Jwe(Path::new(arg)));
    }
    anyhow::bail!(
        "{arg:?} is not a key: give jwe:FILE.pem or provider:{DEFAULT_NAME}[:ARGS] \
         (pkcs7, pgp and pkcs11 recipients are not supported)"
    )
}

fn read_pem(path: &Path) -> anyhow::Result<Vec<u8>> {
    Ok(std::fs::read(path).map_err(|e| ImageError::io(path.display().to_string(), e))?)
}

impl EncryptKeyArgs {
    pub fn parse(args: &[String]) -> anyhow::Result<EncryptKeyArgs> {
        let mut keys = EncryptKeyArgs {
            jwe: Vec::new(),
            provider: None,
        };
        for arg in args {
            match parse(arg, false)? {
                KeyArg::Jwe(path) => {
                    let pem = read_pem(path)?;
                    let key = JwePublicKey::from_pem(&pem).map_err(|e| {
                        anyhow::anyhow!(
                            "{}: {e} (encryption takes a PUBLIC KEY PEM, RSA or EC P-256/P-384)",
                            path.display()
                        )
                    })?;
                    keys.jwe.push(key);
                }
                KeyArg::Provider { name, args } => {
                    let spec = KeySpec::parse(args.unwrap_or_default().as_bytes())
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    if keys.provider.replace(spec).is_some() {
                        anyhow::bail!(
                            "give one provider:{name} key: a layer is sealed under one broker key"
                        );
                    }
                }
            }
        }
        if keys.jwe.is_empty() && keys.provider.is_none() {
            anyhow::bail!("no --key given");
        }
        Ok(keys)
    }
}

impl DecryptKeyArgs {
    pub fn parse(args: &[String]) -> anyhow::Result<DecryptKeyArgs> {
        let mut keys = DecryptKeyArgs {
            jwe: Vec::new(),
            provider: false,
        };
        for arg in args {
            match parse(arg, true)? {
                KeyArg::Jwe(path) => {
                    let pem = read_pem(path)?;
                    let key = JwePrivateKey::from_pem(&pem).map_err(|e| {
                        anyhow::anyhow!(
                            "{}: {e} (decryption takes an unencrypted PRIVATE KEY PEM)",
                            path.display()
                        )
                    })?;
                    keys.jwe.push(key);
                }
                KeyArg::Provider { .. } => keys.provider = true,
            }
        }
        if keys.jwe.is_empty() && !keys.provider {
            anyhow::bail!("no --key given");
        }
        Ok(keys)
    }
}

/// Where the service is, for `provider:ironroot` encryption (the admin conventions).
pub use crate::cmd::admin::MaybeConn as BrokerConn;

/// `provider:ironroot:ARGS`: the broker seals each layer key under the key ARGS names.
pub struct BrokerSealer<W> {
    pub wrapper: W,
    pub spec: KeySpec,
}

impl<W: Wrapper> LayerKeySealer for BrokerSealer<W> {
    fn provider(&self) -> &str {
        DEFAULT_NAME
    }

    fn seal<'a>(&'a self, optsdata: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, ProviderFailure>> {
        Box::pin(async move {
            let packet = self.wrapper.wrap(&self.spec, optsdata).await?;
            Ok(packet.to_bytes()?)
        })
    }
}

/// `provider:ironroot` decryption: the packet goes to the node's agent, which releases
/// the options only if the broker released the key to this attested node.
pub struct AgentOpener<U> {
    pub unwrapper: U,
}

impl<U: Unwrapper> LayerKeyOpener for AgentOpener<U> {
    fn provider(&self) -> &str {
        DEFAULT_NAME
    }

    fn open<'a>(
        &'a self,
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderFailure>> {
        Box::pin(async move {
            let packet = Packet::parse(wrapped)?;
            Ok(self.unwrapper.unwrap(&packet).await?)
        })
    }
}

/// Inspect names the broker key of each `provider:ironroot` recipient.
pub struct IronrootPackets;

impl SealedKeyNames for IronrootPackets {
    fn sealed_key(&self, provider: &str, wrapped: &[u8]) -> Option<SealedKey> {
        let packet = (provider == DEFAULT_NAME)
            .then(|| Packet::parse(wrapped).ok())
            .flatten()?;
        Some(SealedKey {
            name: packet.key_name,
            id: packet.key_id,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_arguments_follow_skopeo() {
        let k = EncryptKeyArgs::parse(&["provider:ironroot:eu-app+tag:region=EU".into()]).unwrap();
        assert_eq!(k.provider.unwrap().name, "eu-app");
        let two = ["provider:ironroot:a".into(), "provider:ironroot:b".into()];
        assert!(EncryptKeyArgs::parse(&two).is_err());
        for bad in [
            "provider:other:x",
            "pgp:alice",
            "provider:ironroot",
            "rsa.pem",
        ] {
            assert!(EncryptKeyArgs::parse(&[bad.into()]).is_err(), "{bad}");
        }
        assert!(EncryptKeyArgs::parse(&[]).is_err());
        assert!(
            DecryptKeyArgs::parse(&["provider:ironroot".into()])
                .unwrap()
                .provider
        );
        assert!(DecryptKeyArgs::parse(&["/nonexistent/priv.pem".into()]).is_err());
    }
}
