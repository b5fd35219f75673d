//! dpkg's status database: RFC 822-like stanzas of `Field: value` lines, continuation lines
//! starting with a space or tab, stanzas separated by blank lines (deb-control(5), dpkg(1)).

use crate::text::{self, Line};
use crate::{Ecosystem, Error, Limits, Package};

/// Reads `var/lib/dpkg/status`: every package whose `Status` is `install ok installed` or
/// `hold ok installed`. Stanzas in other states (removed, config-files, half-installed) are
/// checked and left out; a stanza without `Status` is an error here, since dpkg always writes one.
pub fn parse_dpkg_status(input: &[u8], limits: &Limits) -> Result<Vec<Package>, Error> {
    let mut packages = Vec::new();
    for (count, record) in text::records(text::lines(input, limits)?).enumerate() {
        limits.check_package_count(count + 1)?;
        let stanza = Stanza::read(&record, limits)?;
        if let Some(package) = stanza.into_package(StatusRule::Required)? {
            packages.push(package);
        }
    }
    Ok(packages)
}

/// Reads one distroless `var/lib/dpkg/status.d/<name>` file: exactly one stanza. Distroless
/// writes `dpkg-deb --field` output there, which has no `Status` (the file's presence is the
/// install record), so a missing `Status` counts as installed; a present one is honoured.
/// `Ok(None)` means the stanza says the package is not installed. Callers skip the
/// `<name>.md5sums` files that sit beside these.
pub fn parse_dpkg_status_d(input: &[u8], limits: &Limits) -> Result<Option<Package>, Error> {
    let mut records = text::records(text::lines(input, limits)?);
    let (Some(record), None) = (records.next(), records.next()) else {
        let count = text::records(text::lines(input, limits)?).count();
        return Err(Error::NotOneStanza { count });
    };
    Stanza::read(&record, limits)?.into_package(StatusRule::AbsentMeansInstalled)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StatusRule {
    Required,
    AbsentMeansInstalled,
}

/// A field value and the line it was on.
type Value<'a> = Option<(&'a str, usize)>;

/// The fields of one stanza that we use; the others are only checked against the limits.
#[derive(Default)]
struct Stanza<'a> {
    start: usize,
    package: Value<'a>,
    status: Value<'a>,
    version: Value<'a>,
    source: Value<'a>,
    arch: Value<'a>,
}

/// The field a continuation line extends: its name, first line and length so far.
struct OpenField<'a> {
    name: &'a str,
    line: usize,
    len: usize,
    single_line: bool,
}

impl<'a> Stanza<'a> {
    fn read(lines: &[Line<'a>], limits: &Limits) -> Result<Self, Error> {
        let mut stanza = Stanza {
            start: lines.first().map_or(0, |l| l.number),
            ..Stanza::default()
        };
        let mut open: Option<OpenField<'a>> = None;
        for line in lines {
            if line.text.starts_with([' ', '\t']) {
                let field = open
                    .as_mut()
                    .ok_or(Error::OrphanContinuation { line: line.number })?;
                if field.single_line {
                    return Err(Error::MalformedLine { line: line.number });
                }
                field.len = field.len.saturating_add(line.text.len() + 1);
                text::check_field(field.line, field.name, field.len, limits)?;
                continue;
            }
            let (name, value) = line
                .text
                .split_once(':')
                .filter(|(name, _)| !name.is_empty() && !name.contains(char::is_whitespace))
                .ok_or(Error::MalformedLine { line: line.number })?;
            let value = value.trim();
            text::check_field(line.number, name, value.len(), limits)?;
            let slot = stanza.slot(name);
            let single_line = slot.is_some();
            if let Some(slot) = slot {
                if slot.is_some() {
                    return Err(Error::DuplicateField {
                        line: line.number,
                        field: text::truncated_name(name),
                    });
                }
                *slot = Some((value, line.number));
            }
            open = Some(OpenField {
                name,
                line: line.number,
                len: value.len(),
                single_line,
            });
        }
        Ok(stanza)
    }

    /// Field names are case-insensitive in deb-control(5).
    fn slot(&mut self, name: &str) -> Option<&mut Value<'a>> {
        let slots: [(&str, &mut Value<'a>); 5] = [
            ("Package", &mut self.package),
            ("Status", &mut self.status),
            ("Version", &mut self.version),
            ("Source", &mut self.source),
            ("Architecture", &mut self.arch),
        ];
        slots
            .into_iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, slot)| slot)
    }

    fn into_package(self, rule: StatusRule) -> Result<Option<Package>, Error> {
        let name = required(self.package, self.start, "Package")?;
        match (self.status, rule) {
            (Some((status, line)), _) => {
                if !is_installed(status, line)? {
                    return Ok(None);
                }
            }
            (None, StatusRule::Required) => {
                return Err(Error::MissingField {
                    line: self.start,
                    field: "Status",
                })
            }
            (None, StatusRule::AbsentMeansInstalled) => {}
        }
        let version = required(self.version, self.start, "Version")?;
        let (source_name, source_version) = match self.source {
            Some((source, line)) => parse_source(source, line)?,
            None => (None, None),
        };
        let arch = match self.arch {
            Some((arch, line)) => Some(word(arch, line, "Architecture")?.to_owned()),
            None => None,
        };
        Ok(Some(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            source_name,
            source_version,
            arch,
            ecosystem: Ecosystem::Dpkg,
        }))
    }
}

/// A present, non-empty, single-word value.
fn required<'a>(value: Value<'a>, start: usize, field: &'static str) -> Result<&'a str, Error> {
    let (value, line) = value.ok_or(Error::MissingField { line: start, field })?;
    word(value, line, field)
}

fn word<'a>(value: &'a str, line: usize, field: &'static str) -> Result<&'a str, Error> {
    if value.is_empty() || value.contains(char::is_whitespace) {
        return Err(Error::MalformedValue { line, field });
    }
    Ok(value)
}

/// `Status: want flag status`; only a wanted, ok, installed package counts.
fn is_installed(status: &str, line: usize) -> Result<bool, Error> {
    let words: Vec<&str> = status.split_whitespace().collect();
    let [want, flag, state] = words[..] else {
        return Err(Error::MalformedValue {
            line,
            field: "Status",
        });
    };
    Ok(matches!(want, "install" | "hold") && flag == "ok" && state == "installed")
}

/// `Source: name` or `Source: name (version)`, the latter when the source version differs.
fn parse_source(source: &str, line: usize) -> Result<(Option<String>, Option<String>), Error> {
    let malformed = Error::MalformedValue {
        line,
        field: "Source",
    };
    let (name, version) = match source.split_once('(') {
        None => (source, None),
        Some((name, rest)) => {
            let version = rest.strip_suffix(')').ok_or(malformed.clone())?.trim();
            (name.trim_end(), Some(word(version, line, "Source")?))
        }
    };
    let name = word(name, line, "Source")?;
    Ok((Some(name.to_owned()), version.map(str::to_owned)))
}
