//! TPM 2.0 structures as they cross the wire, parsed with limits, and the checks that
//! need only public keys: quote verification and TPM2_MakeCredential.
//!
//! Pure: no TPM library, no I/O. Everything here works on bytes a node sent, so every
//! parser bounds its input and returns an error instead of panicking.

mod pcr;

pub use pcr::PcrValues;
