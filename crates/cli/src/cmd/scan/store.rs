//! Where the CLI keeps scanned images' inventories for `ironroot rescan` (the store
//! itself is the ironroot-inventory crate, shared with the service).

pub use ironroot_inventory::{rescan, save, Rescan};
use std::path::PathBuf;

/// `$IRONROOT_INVENTORIES`, else `$XDG_CACHE_HOME/ironroot/inventories`, else
/// `~/.cache/ironroot/inventories`.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("IRONROOT_INVENTORIES") {
        return d.into();
    }
    super::db::cache_home().join("ironroot/inventories")
}
