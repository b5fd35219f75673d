//! The scan's inspector: which files the configuration checks need gathered
//! (`ironroot_scanner::checks` decides), and the files handed to the secret and malware
//! scanner running beside the scan.

use ironroot_scanner::{Inspector, Want};

/// What the scan's inspector gathers for the configuration checks, and the files it
/// hands to the secret and malware scanner.
pub struct Checks {
    pub content: Option<super::content::ContentChecks>,
}

impl Inspector for Checks {
    fn gather(&self, path: &str, mode: u32, size: u64) -> Want {
        ironroot_scanner::checks::config_checks_want(path, mode, size)
    }

    fn wants_content(&self, path: &str, size: u64) -> bool {
        self.content.as_ref().is_some_and(|c| c.wants(path, size))
    }

    fn content(&mut self, layer: usize, path: &str, data: Vec<u8>) {
        if let Some(c) = &mut self.content {
            c.send(layer, path, data);
        }
    }
}
