//! The command-line front end of ironroot. Each subcommand is a thin shell: it parses
//! arguments into the typed configuration of a library crate and calls it.

pub mod cmd;
/// The demo's peers live in `ironroot-peers` (the end-to-end tests use them too).
pub use ironroot_peers as peers;
