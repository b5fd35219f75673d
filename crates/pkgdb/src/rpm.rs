//! One installed package from an rpm database header blob.

use crate::rpm_header::{Entry, Header};
use crate::{Ecosystem, Error, Limits, Package};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

/// Reads the package of one header blob (e.g. `Packages.blob` of `rpmdb.sqlite`).
///
/// `version` is `[epoch:]version-release`. `source_name` and `source_version` come from
/// SOURCERPM (`name-version-release.src.rpm`); it carries no epoch, so the binary's is used,
/// as both come from one build. rpm's `gpg-pubkey` pseudo-packages have no ARCH or SOURCERPM
/// and come back with `arch` and `source_name` unset; callers usually drop them.
pub fn parse_rpm_header(blob: &[u8], limits: &Limits) -> Result<Package, Error> {
    limits.check_input(blob)?;
    let header = Header::parse(blob)?;
    let tags = Tags::find(&header)?;
    let text = |entry: Option<&Entry>| entry.map(|e| string(&header, e, limits)).transpose();
    let required = |entry: Option<&Entry>, field: &'static str| match text(entry)? {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Error::RpmMissingTag { field }),
    };
    let name = required(tags.name, "NAME")?;
    let version = required(tags.version, "VERSION")?;
    let release = required(tags.release, "RELEASE")?;
    let epoch = tags.epoch.map(|e| header.int32(e)).transpose()?;
    let arch = text(tags.arch)?;
    let source = text(tags.sourcerpm)?
        .map(|s| split_source_rpm(&s))
        .transpose()?;
    let with_epoch = |vr: String| match epoch {
        Some(epoch) => format!("{epoch}:{vr}"),
        None => vr,
    };
    let (source_name, source_version) = match source {
        Some((name, vr)) => (Some(name), Some(with_epoch(vr))),
        None => (None, None),
    };
    Ok(Package {
        name,
        version: with_epoch(format!("{version}-{release}")),
        source_name,
        source_version,
        arch,
        ecosystem: Ecosystem::Rpm,
    })
}

/// The entries of the tags we read; each may appear at most once.
#[derive(Default)]
struct Tags<'h> {
    name: Option<&'h Entry>,
    version: Option<&'h Entry>,
    release: Option<&'h Entry>,
    epoch: Option<&'h Entry>,
    arch: Option<&'h Entry>,
    sourcerpm: Option<&'h Entry>,
}

impl<'h> Tags<'h> {
    fn find(header: &'h Header<'_>) -> Result<Self, Error> {
        let mut tags = Tags::default();
        for entry in &header.entries {
            let slot = match entry.tag {
                TAG_NAME => &mut tags.name,
                TAG_VERSION => &mut tags.version,
                TAG_RELEASE => &mut tags.release,
                TAG_EPOCH => &mut tags.epoch,
                TAG_ARCH => &mut tags.arch,
                TAG_SOURCERPM => &mut tags.sourcerpm,
                _ => continue,
            };
            if let Some(first) = slot {
                return Err(Error::RpmDuplicateTag {
                    tag: entry.tag,
                    first: first.index,
                    second: entry.index,
                });
            }
            *slot = Some(entry);
        }
        Ok(tags)
    }
}

fn string(header: &Header<'_>, entry: &Entry, limits: &Limits) -> Result<String, Error> {
    let bytes = header.string(entry)?;
    if bytes.len() > limits.max_field_bytes {
        return Err(Error::RpmFieldTooLong {
            index: entry.index,
            tag: entry.tag,
            max: limits.max_field_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::RpmNotUtf8 {
        index: entry.index,
        tag: entry.tag,
    })?;
    Ok(text.to_owned())
}

/// `name-version-release.src.rpm` (or `.nosrc.rpm`) into `(name, "version-release")`; the
/// name may itself contain dashes, version and release may not.
fn split_source_rpm(source_rpm: &str) -> Result<(String, String), Error> {
    let nvr = source_rpm
        .strip_suffix(".src.rpm")
        .or_else(|| source_rpm.strip_suffix(".nosrc.rpm"))
        .ok_or(Error::RpmMalformedSourceRpm)?;
    let (name_version, _release) = nvr.rsplit_once('-').ok_or(Error::RpmMalformedSourceRpm)?;
    let (name, _version) = name_version
        .rsplit_once('-')
        .ok_or(Error::RpmMalformedSourceRpm)?;
    if name.is_empty() || nvr.split('-').any(str::is_empty) {
        return Err(Error::RpmMalformedSourceRpm);
    }
    let version_release = nvr.get(name.len() + 1..).unwrap_or_default();
    Ok((name.to_owned(), version_release.to_owned()))
}
