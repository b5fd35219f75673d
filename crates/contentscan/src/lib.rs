//! Looks inside the files of container image layers for **secrets** (private keys, cloud and
//! service tokens, passwords in configuration) and **malware** (YARA rules run by yara-x).
//!
//! The image scanner streams each layer once; for every regular file it asks
//! [`Scanner::wants`] and, if so, hands the bytes to [`Session::scan`] (one session per worker
//! thread), then drops them. Files of every layer are scanned, including ones a later layer
//! deletes: they are still in the image.
//!
//! - Secret rules are TOML (format below); each has keywords,
//!   and its regex only runs on files holding one.
//!   Files with a NUL in their first 8 KiB are skipped unless a rule says `scan_binary`.
//! - An allow-list (rule ids, path globs or regexes, value regexes) suppresses secret
//!   findings; malware findings are never allow-listed.
//! - Malware rules are YARA source text; the built-in ones find the EICAR test file, stratum
//!   cryptominers and reverse-shell one-liners. They need the `malware` feature (on by
//!   default), which brings yara-x and with it wasmtime; without it (the fuzz targets) there
//!   are no built-in YARA rules and a YARA source is an [`Error::Yara`].
//!
//! This crate must never: do I/O (rules arrive as text, files as bytes; YARA `include` is
//! off), put a matched secret into a [`Finding`] (only [`redact`]ed, since findings reach logs
//! and reports), or report a file as clean when it could not be scanned to the end.
//!
#![doc = include_str!("../docs/rules-format.md")]
#![forbid(unsafe_code)]

mod allow;
mod error;
mod finding;
// One API, two bodies: yara-x, or a stand-in that has no rules and refuses any source.
#[cfg_attr(not(feature = "malware"), path = "malware_off.rs")]
mod malware;
mod rules_file;
mod scanner;
mod secrets;

pub use error::Error;
pub use finding::{redact, Category, Finding, RuleInfo, Severity};
pub use rules_file::AllowEntry;
pub use scanner::{Config, RulesSource, Scanner, Session};
