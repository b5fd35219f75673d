//! The command-line front end of ironroot. Each subcommand is a thin shell: it parses
//! arguments into the typed configuration of a library crate and calls it.

pub mod cmd;
pub mod peers;
pub mod registry;
