//! The ocicrypt keyprovider protocol: the JSON that ocicrypt sends a key provider (on
//! stdin for `cmd` providers, inside a protobuf `bytes` field for gRPC) and the JSON it
//! expects back. Only the messages live here; transports are someone else's job.
//!
//! Field names are Go's: `EncryptConfig` and `DecryptConfig` have no JSON tags, hence
//! `Parameters` and `DecryptConfig`. Both parameter blocks are always sent, the unused
//! one holding `null`s. Unknown fields are refused (fail closed); ocicrypt has sent
//! exactly these since v1.1.0.

use crate::bytes::{null_as_default, Bytes, SecretBytes};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Largest message accepted in either direction.
pub const MAX_MESSAGE_LEN: usize = 1 << 20;

/// `Parameters`: provider or scheme name to its argument byte strings. `null` reads as
/// empty. Values may hold private keys (ocicrypt passes every decrypt parameter to every
/// provider), so they are secret.
pub type Parameters = BTreeMap<String, Vec<SecretBytes>>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProviderError {
    #[error("keyprovider message is larger than {MAX_MESSAGE_LEN} bytes")]
    TooLarge,
    #[error("keyprovider message is not valid: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("keyprovider message lacks {0}")]
    Missing(&'static str),
    #[error("not a provider key specification (want provider:NAME[:ARGS])")]
    BadKeySpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    KeyWrap,
    KeyUnwrap,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecryptConfig {
    #[serde(rename = "Parameters", default, deserialize_with = "null_as_default")]
    pub parameters: Parameters,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptConfig {
    #[serde(rename = "Parameters", default, deserialize_with = "null_as_default")]
    pub parameters: Parameters,
    #[serde(
        rename = "DecryptConfig",
        default,
        deserialize_with = "null_as_default"
    )]
    pub decrypt_config: DecryptConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyWrapParams {
    #[serde(default)]
    pub ec: Option<EncryptConfig>,
    #[serde(default)]
    pub optsdata: Option<SecretBytes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyUnwrapParams {
    #[serde(default)]
    pub dc: Option<DecryptConfig>,
    #[serde(default)]
    pub annotation: Option<Bytes>,
}

/// The request ocicrypt sends (`KeyProviderKeyWrapProtocolInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyProviderInput {
    pub op: Operation,
    #[serde(default, deserialize_with = "null_as_default")]
    pub keywrapparams: KeyWrapParams,
    #[serde(default, deserialize_with = "null_as_default")]
    pub keyunwrapparams: KeyUnwrapParams,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyWrapResults {
    #[serde(default)]
    pub annotation: Option<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyUnwrapResults {
    #[serde(default)]
    pub optsdata: Option<SecretBytes>,
}

/// The reply (`KeyProviderKeyWrapProtocolOutput`). Go providers send both members, the
/// unused one with a `null` inside; we write only the one that matters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyProviderOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywrapresults: Option<KeyWrapResults>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyunwrapresults: Option<KeyUnwrapResults>,
}

/// A request whose operation and the fields it needs have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyProviderRequest {
    /// Wrap `optsdata` (a layer's private-options JSON); `parameters` is `ec.Parameters`,
    /// where this provider finds its own arguments under its name.
    Wrap {
        parameters: Parameters,
        optsdata: SecretBytes,
    },
    /// Unwrap `annotation` (what a wrap returned); `parameters` is `dc.Parameters`.
    Unwrap {
        parameters: Parameters,
        annotation: Vec<u8>,
    },
}

fn parse<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, KeyProviderError> {
    if json.len() > MAX_MESSAGE_LEN {
        return Err(KeyProviderError::TooLarge);
    }
    Ok(serde_json::from_slice(json)?)
}

impl KeyProviderRequest {
    /// Parses and checks a request, as a provider receives it.
    pub fn from_json(json: &[u8]) -> Result<Self, KeyProviderError> {
        let input: KeyProviderInput = parse(json)?;
        match input.op {
            Operation::KeyWrap => {
                let p = input.keywrapparams;
                Ok(KeyProviderRequest::Wrap {
                    parameters: p
                        .ec
                        .ok_or(KeyProviderError::Missing("keywrapparams.ec"))?
                        .parameters,
                    optsdata: p
                        .optsdata
                        .ok_or(KeyProviderError::Missing("keywrapparams.optsdata"))?,
                })
            }
            Operation::KeyUnwrap => {
                let p = input.keyunwrapparams;
                let annotation = p
                    .annotation
                    .filter(|a| !a.0.is_empty())
                    .ok_or(KeyProviderError::Missing("keyunwrapparams.annotation"))?;
                Ok(KeyProviderRequest::Unwrap {
                    parameters: p.dc.unwrap_or_default().parameters,
                    annotation: annotation.0,
                })
            }
        }
    }

    /// The message in the shape ocicrypt itself sends, as a client of a provider.
    pub fn to_input(&self) -> KeyProviderInput {
        match self {
            KeyProviderRequest::Wrap {
                parameters,
                optsdata,
            } => KeyProviderInput {
                op: Operation::KeyWrap,
                keywrapparams: KeyWrapParams {
                    ec: Some(EncryptConfig {
                        parameters: parameters.clone(),
                        decrypt_config: DecryptConfig::default(),
                    }),
                    optsdata: Some(optsdata.clone()),
                },
                keyunwrapparams: KeyUnwrapParams::default(),
            },
            KeyProviderRequest::Unwrap {
                parameters,
                annotation,
            } => KeyProviderInput {
                op: Operation::KeyUnwrap,
                keywrapparams: KeyWrapParams::default(),
                keyunwrapparams: KeyUnwrapParams {
                    dc: Some(DecryptConfig {
                        parameters: parameters.clone(),
                    }),
                    annotation: Some(Bytes(annotation.clone())),
                },
            },
        }
    }

    pub fn to_json(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyProviderError> {
        Ok(zeroize::Zeroizing::new(serde_json::to_vec(
            &self.to_input(),
        )?))
    }
}

/// A provider's reply to a wrap: the opaque bytes to put (base64) into the annotation.
pub fn wrap_response_json(annotation: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
    let out = KeyProviderOutput {
        keywrapresults: Some(KeyWrapResults {
            annotation: Some(Bytes(annotation.to_vec())),
        }),
        keyunwrapresults: None,
    };
    Ok(serde_json::to_vec(&out)?)
}

/// A provider's reply to an unwrap: the exact private-options JSON.
pub fn unwrap_response_json(
    optsdata: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyProviderError> {
    let out = KeyProviderOutput {
        keywrapresults: None,
        keyunwrapresults: Some(KeyUnwrapResults {
            optsdata: Some(SecretBytes::from(optsdata)),
        }),
    };
    Ok(zeroize::Zeroizing::new(serde_json::to_vec(&out)?))
}

/// Reads a provider's reply to a wrap; the annotation bytes must be non-empty.
pub fn parse_wrap_response(json: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
    let out: KeyProviderOutput = parse(json)?;
    out.keywrapresults
        .and_then(|r| r.annotation)
        .filter(|a| !a.0.is_empty())
        .map(|a| a.0)
        .ok_or(KeyProviderError::Missing("keywrapresults.annotation"))
}

/// Reads a provider's reply to an unwrap; the options must be non-empty.
pub fn parse_unwrap_response(json: &[u8]) -> Result<SecretBytes, KeyProviderError> {
    let out: KeyProviderOutput = parse(json)?;
    out.keyunwrapresults
        .and_then(|r| r.optsdata)
        .filter(|o| !o.expose().is_empty())
        .ok_or(KeyProviderError::Missing("keyunwrapresults.optsdata"))
}

/// A `--encryption-key`/`--decryption-key` value `provider:NAME[:ARGS]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderKeySpec {
    pub name: String,
    /// `ARGS`, or `Enabled` when none were given, as ocicrypt does.
    pub args: SecretBytes,
}

impl ProviderKeySpec {
    /// Splits on the first colon after `provider:`, so ARGS may contain colons.
    pub fn parse(spec: &str) -> Result<Self, KeyProviderError> {
        let rest = spec
            .strip_prefix("provider:")
            .ok_or(KeyProviderError::BadKeySpec)?;
        let (name, args) = match rest.split_once(':') {
            Some((name, args)) => (name, args),
            None => (rest, "Enabled"),
        };
        if name.is_empty() {
            return Err(KeyProviderError::BadKeySpec);
        }
        Ok(ProviderKeySpec {
            name: name.to_string(),
            args: SecretBytes::from(args.as_bytes()),
        })
    }

    /// Adds this spec to `Parameters` as ocicrypt does (`Parameters[NAME] += [ARGS]`).
    pub fn add_to(&self, parameters: &mut Parameters) {
        parameters
            .entry(self.name.clone())
            .or_default()
            .push(self.args.clone());
    }
}
