//! Key providers as image encryption sees them: something that seals a layer's private
//! options into the bytes of an `org.opencontainers.image.enc.keys.provider.NAME`
//! annotation, and something that opens them again. Traits, so that this crate needs no
//! RPC stack: `ironroot-keyprovider`'s broker client and agent socket are adapted by the
//! caller (the CLI does, in `cmd/image/keys.rs`).

use std::future::Future;
use std::pin::Pin;
use zeroize::Zeroizing;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a provider did not seal or open: its message is shown after the provider's name.
pub type ProviderFailure = Box<dyn std::error::Error + Send + Sync>;

/// Seals layer keys for one key provider recipient (a build host's broker key).
pub trait LayerKeySealer: Send + Sync {
    /// `NAME` in `provider:NAME`: the annotation the sealed options go under.
    fn provider(&self) -> &str;
    /// The annotation bytes for a layer's private options.
    fn seal<'a>(&'a self, optsdata: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>, ProviderFailure>>;
}

/// Opens layer keys sealed for a key provider (a node's agent).
pub trait LayerKeyOpener: Send + Sync {
    /// `NAME` in `provider:NAME`: the annotation whose keys it opens.
    fn provider(&self) -> &str;
    /// The private options sealed in one annotation entry (untrusted bytes from the image).
    fn open<'a>(
        &'a self,
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, ProviderFailure>>;
}

/// Which provider key sealed a layer key, for inspection (nothing is opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedKey {
    pub name: String,
    pub id: String,
}

/// Reads the key names out of the providers' annotations whose format the caller knows.
pub trait SealedKeyNames {
    /// `None` for a provider or an entry it cannot read.
    fn sealed_key(&self, provider: &str, wrapped: &[u8]) -> Option<SealedKey>;
}

/// Knows no provider's format: recipients are listed by provider name only.
impl SealedKeyNames for () {
    fn sealed_key(&self, _: &str, _: &[u8]) -> Option<SealedKey> {
        None
    }
}
