//! TPM 2.0 structures as they cross the wire, parsed with limits, and the checks that
//! need only public keys: quote verification and TPM2_MakeCredential.
//!
//! Pure: no TPM library, no I/O, and no cryptography of its own (all of it goes through
//! `ironroot-crypto`). Everything here works on bytes a node sent, so every parser is a
//! total function on `&[u8]` that bounds its input and returns an error instead of
//! panicking. Nothing here may hand out a verified value without running every check.

#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod alg;
mod attest;
mod credential;
mod ekcert;
mod kdf;
mod pcr;
mod public;
mod quote;
mod signature;
mod tools_export;
mod wire;

pub use attest::{
    read_pcr_selection, Attest, Attested, ClockInfo, PcrSelection, TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_CERTIFY, TPM_ST_ATTEST_QUOTE,
};
pub use credential::{make_credential, CredentialError, MadeCredential, MAX_CREDENTIAL};
pub use ekcert::{EkCertError, EkRoots};
pub use kdf::{kdfa, kdfe};
pub use pcr::{Digest, PcrValues};
pub use public::{
    hierarchy_qualified_name, qualified_name, ObjectAttributes, PublicParams, Scheme, SymDef,
    TpmPublic, Unique, TPM_RH_ENDORSEMENT, TPM_RH_NULL, TPM_RH_OWNER, TPM_RH_PLATFORM,
};
pub use quote::{verify_certify, verify_quote, QuoteError, VerifiedCertify, VerifiedQuote};
pub use signature::Signature;
pub use tools_export::{to_tpm2_tools, Tpm2ToolsQuote};
pub use wire::{Reader, WireError, Writer};
