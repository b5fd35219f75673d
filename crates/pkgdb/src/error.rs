//! Why a database was rejected, with where: a 1-based line for the text formats, an entry
//! index and byte offset for rpm headers.

/// A database the parsers refuse. [`Error::kind`] is the stable name for logs and the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("input is {len} bytes, more than the limit of {max}")]
    InputTooLarge { len: usize, max: usize },
    #[error("more than {max} packages")]
    TooManyPackages { max: usize },
    #[error("line {line}: not UTF-8 (byte offset {offset})")]
    NotUtf8 { line: usize, offset: usize },
    #[error("line {line}: field {field} is longer than {max} bytes")]
    FieldTooLong {
        line: usize,
        field: String,
        max: usize,
    },
    #[error("line {line}: not a `Field: value`, `K:value` or continuation line")]
    MalformedLine { line: usize },
    #[error("line {line}: continuation line with no field before it")]
    OrphanContinuation { line: usize },
    #[error("line {line}: field {field} appears twice in one package")]
    DuplicateField { line: usize, field: String },
    #[error("package starting at line {line}: no {field} field")]
    MissingField { line: usize, field: &'static str },
    #[error("line {line}: field {field} has a malformed value")]
    MalformedValue { line: usize, field: &'static str },
    #[error("status.d file holds {count} stanzas, not one")]
    NotOneStanza { count: usize },
    #[error("rpm header: needs {needed} bytes at offset {offset}, blob is {len}")]
    RpmTruncated {
        offset: usize,
        needed: usize,
        len: usize,
    },
    #[error("rpm header: {count} index entries (must be 1 to {max})")]
    RpmIndexCount { count: u32, max: u32 },
    #[error("rpm header: data store of {len} bytes (limit {max})")]
    RpmDataLength { len: u32, max: usize },
    #[error("rpm header: {trailing} bytes after the data store")]
    RpmTrailingBytes { trailing: usize },
    #[error("rpm header entry {index} (tag {tag}): unknown type {ty}")]
    RpmBadType { index: usize, tag: u32, ty: u32 },
    #[error("rpm header entry {index} (tag {tag}): offset {offset} count {count} is outside the {data_len}-byte data store")]
    RpmOutOfRange {
        index: usize,
        tag: u32,
        offset: u32,
        count: u32,
        data_len: usize,
    },
    #[error("rpm header entry {index} (tag {tag}): type {ty} where {expected} was expected")]
    RpmWrongType {
        index: usize,
        tag: u32,
        ty: u32,
        expected: &'static str,
    },
    #[error(
        "rpm header entry {index} (tag {tag}): string at offset {offset} has no NUL terminator"
    )]
    RpmUnterminated { index: usize, tag: u32, offset: u32 },
    #[error("rpm header entry {index} (tag {tag}): value is not UTF-8")]
    RpmNotUtf8 { index: usize, tag: u32 },
    #[error("rpm header entry {index} (tag {tag}): value longer than {max} bytes")]
    RpmFieldTooLong { index: usize, tag: u32, max: usize },
    #[error("rpm header: tag {tag} appears twice (entries {first} and {second})")]
    RpmDuplicateTag {
        tag: u32,
        first: usize,
        second: usize,
    },
    #[error("rpm header: no {field} tag")]
    RpmMissingTag { field: &'static str },
    #[error("rpm header: SOURCERPM is not NAME-VERSION-RELEASE.src.rpm")]
    RpmMalformedSourceRpm,
}

impl Error {
    /// A stable, machine-readable name for the variant.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InputTooLarge { .. } => "input_too_large",
            Error::TooManyPackages { .. } => "too_many_packages",
            Error::NotUtf8 { .. } => "not_utf8",
            Error::FieldTooLong { .. } => "field_too_long",
            Error::MalformedLine { .. } => "malformed_line",
            Error::OrphanContinuation { .. } => "orphan_continuation",
            Error::DuplicateField { .. } => "duplicate_field",
            Error::MissingField { .. } => "missing_field",
            Error::MalformedValue { .. } => "malformed_value",
            Error::NotOneStanza { .. } => "not_one_stanza",
            Error::RpmTruncated { .. } => "rpm_truncated",
            Error::RpmIndexCount { .. } => "rpm_index_count",
            Error::RpmDataLength { .. } => "rpm_data_length",
            Error::RpmTrailingBytes { .. } => "rpm_trailing_bytes",
            Error::RpmBadType { .. } => "rpm_bad_type",
            Error::RpmOutOfRange { .. } => "rpm_out_of_range",
            Error::RpmWrongType { .. } => "rpm_wrong_type",
            Error::RpmUnterminated { .. } => "rpm_unterminated",
            Error::RpmNotUtf8 { .. } => "rpm_not_utf8",
            Error::RpmFieldTooLong { .. } => "rpm_field_too_long",
            Error::RpmDuplicateTag { .. } => "rpm_duplicate_tag",
            Error::RpmMissingTag { .. } => "rpm_missing_tag",
            Error::RpmMalformedSourceRpm => "rpm_malformed_source_rpm",
        }
    }
}
