/// Bounds on what one layer may make the scanner do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Tar entries in one layer.
    pub max_entries: u64,
    /// Bytes after decompression, one layer.
    pub max_layer_bytes: u64,
    /// Decompressed bytes per compressed byte, checked once past `ratio_grace` bytes.
    pub max_ratio: u64,
    pub ratio_grace: u64,
    /// Bytes of one path.
    pub max_path_len: usize,
    /// Bytes of one file a visitor reads (what it asks for beyond that is cut, and said).
    pub max_file_bytes: u64,
}

impl Default for Limits {
    /// Generous for real images (the largest public ones have a few hundred thousand
    /// entries and a few GiB per layer); a bomb stops well before it exhausts a machine.
    fn default() -> Self {
        Limits {
            max_entries: 2_000_000,
            max_layer_bytes: 64 << 30,
            max_ratio: 200,
            ratio_grace: 64 << 20,
            max_path_len: 4096,
            max_file_bytes: 256 << 20,
        }
    }
}
