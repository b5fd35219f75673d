//! Subcommands.

pub mod admin;
pub mod agent;
pub mod alert;
pub mod asset_tag;
pub mod audit;
pub mod audit_witness;
pub mod client;
pub mod controller;
pub mod demo;
pub mod group;
pub mod hub;
pub mod identity;
mod identity_out;
pub mod image;
pub mod key;
pub mod login;
mod login_device;
pub mod node;
pub mod scan;
pub mod server;
pub mod sign;
pub mod sink;
mod table;

pub use table::{printable, Table};

/// Exit codes (documented in `--help` of the commands that use them and in docs/cli.md).
pub const EXIT_OK: u8 = 0;
/// A command failed (bad arguments, service unreachable, refused).
pub const EXIT_ERROR: u8 = 1;
/// The command worked and found a host or report untrusted (`host show`, `report verify`).
pub const EXIT_UNTRUSTED: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Json,
}
