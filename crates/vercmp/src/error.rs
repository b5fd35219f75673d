//! Why a version string was rejected, per ecosystem. The reasons for dpkg use dpkg's own
//! wording, so an operator can match them against `dpkg --compare-versions` output.

use thiserror::Error;

/// How much of a rejected version an error keeps: enough to find it, not a hostile megabyte.
const EXCERPT_CHARS: usize = 64;

/// A version string that does not follow its ecosystem's syntax.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VersionError {
    /// Not a valid dpkg version.
    #[error("invalid dpkg version {input:?}: {reason}")]
    Dpkg {
        /// The version (its first 64 characters).
        input: String,
        /// What is wrong with it.
        reason: DpkgSyntax,
    },
    /// Not a valid rpm version.
    #[error("invalid rpm version {input:?}: {reason}")]
    Rpm {
        /// The version (its first 64 characters).
        input: String,
        /// What is wrong with it.
        reason: RpmSyntax,
    },
    /// Not a valid apk version.
    #[error("invalid apk version {input:?}: {reason}")]
    Apk {
        /// The version (its first 64 characters).
        input: String,
        /// What is wrong with it.
        reason: ApkSyntax,
    },
}

impl VersionError {
    pub(crate) fn dpkg(input: &str, reason: DpkgSyntax) -> Self {
        VersionError::Dpkg {
            input: excerpt(input),
            reason,
        }
    }

    pub(crate) fn rpm(input: &str, reason: RpmSyntax) -> Self {
        VersionError::Rpm {
            input: excerpt(input),
            reason,
        }
    }

    pub(crate) fn apk(input: &str, reason: ApkSyntax) -> Self {
        VersionError::Apk {
            input: excerpt(input),
            reason,
        }
    }

    /// A stable machine-readable kind, e.g. `dpkg.epoch_not_number`.
    pub fn kind(&self) -> &'static str {
        match self {
            VersionError::Dpkg { reason, .. } => reason.kind(),
            VersionError::Rpm { reason, .. } => reason.kind(),
            VersionError::Apk { reason, .. } => reason.kind(),
        }
    }
}

fn excerpt(input: &str) -> String {
    input.chars().take(EXCERPT_CHARS).collect()
}

/// What is wrong with a dpkg version (deb-version(7)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DpkgSyntax {
    #[error("version string is empty")]
    Empty,
    #[error("version string is longer than {} bytes", crate::MAX_VERSION_LEN)]
    TooLong,
    #[error("version string has embedded spaces")]
    EmbeddedSpace,
    #[error("epoch in version is empty")]
    EpochEmpty,
    #[error("epoch in version is not number")]
    EpochNotNumber,
    #[error("epoch in version is negative")]
    EpochNegative,
    #[error("epoch in version is too big")]
    EpochTooBig,
    #[error("nothing after colon in version number")]
    NothingAfterColon,
    #[error("revision number is empty")]
    RevisionEmpty,
    #[error("version number is empty")]
    UpstreamEmpty,
    #[error("version number does not start with digit")]
    UpstreamNotStartingWithDigit,
    #[error("invalid character {0:?} in version number")]
    InvalidUpstreamChar(char),
    #[error("invalid character {0:?} in revision number")]
    InvalidRevisionChar(char),
}

impl DpkgSyntax {
    fn kind(self) -> &'static str {
        match self {
            DpkgSyntax::Empty => "dpkg.empty",
            DpkgSyntax::TooLong => "dpkg.too_long",
            DpkgSyntax::EmbeddedSpace => "dpkg.embedded_space",
            DpkgSyntax::EpochEmpty => "dpkg.epoch_empty",
            DpkgSyntax::EpochNotNumber => "dpkg.epoch_not_number",
            DpkgSyntax::EpochNegative => "dpkg.epoch_negative",
            DpkgSyntax::EpochTooBig => "dpkg.epoch_too_big",
            DpkgSyntax::NothingAfterColon => "dpkg.nothing_after_colon",
            DpkgSyntax::RevisionEmpty => "dpkg.revision_empty",
            DpkgSyntax::UpstreamEmpty => "dpkg.upstream_empty",
            DpkgSyntax::UpstreamNotStartingWithDigit => "dpkg.upstream_not_starting_with_digit",
            DpkgSyntax::InvalidUpstreamChar(_) => "dpkg.invalid_upstream_char",
            DpkgSyntax::InvalidRevisionChar(_) => "dpkg.invalid_revision_char",
        }
    }
}

/// What is wrong with an rpm version. rpm itself accepts nearly any string; only what cannot
/// be a version at all is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RpmSyntax {
    #[error("version string is empty")]
    Empty,
    #[error("version string is longer than {} bytes", crate::MAX_VERSION_LEN)]
    TooLong,
}

impl RpmSyntax {
    fn kind(self) -> &'static str {
        match self {
            RpmSyntax::Empty => "rpm.empty",
            RpmSyntax::TooLong => "rpm.too_long",
        }
    }
}

/// What is wrong with an apk version
/// (`digits{.digits}[letter]{_suffix[digits]}[~hash][-rdigits]`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ApkSyntax {
    #[error("version string is empty")]
    Empty,
    #[error("version string is longer than {} bytes", crate::MAX_VERSION_LEN)]
    TooLong,
    #[error("version does not start with a digit")]
    NotStartingWithDigit,
    #[error("no digits after '.' at byte {0}")]
    EmptyNumber(usize),
    #[error("unknown suffix at byte {0} (expected alpha, beta, pre, rc, cvs, svn, git, hg or p)")]
    UnknownSuffix(usize),
    #[error("no digits after \"-r\"")]
    EmptyRevision,
    #[error("no hex digits after '~'")]
    EmptyHash,
    #[error("unexpected {1:?} at byte {0}")]
    Unexpected(usize, char),
}

impl ApkSyntax {
    fn kind(&self) -> &'static str {
        match self {
            ApkSyntax::Empty => "apk.empty",
            ApkSyntax::TooLong => "apk.too_long",
            ApkSyntax::NotStartingWithDigit => "apk.not_starting_with_digit",
            ApkSyntax::EmptyNumber(_) => "apk.empty_number",
            ApkSyntax::UnknownSuffix(_) => "apk.unknown_suffix",
            ApkSyntax::EmptyRevision => "apk.empty_revision",
            ApkSyntax::EmptyHash => "apk.empty_hash",
            ApkSyntax::Unexpected(..) => "apk.unexpected",
        }
    }
}
