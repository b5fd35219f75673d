//! apk-tools' installed database, `lib/apk/db/installed`: one record per package, each line
//! `K:value` with a one-letter key (apk-package(5) gives the letters), records separated by
//! blank lines. File lists (`F:`, `R:`, `a:`, `Z:`, ...) repeat inside a record; the package
//! fields we read must appear once.

use crate::text::{self, Line};
use crate::{Ecosystem, Error, Limits, Package};

/// Reads every package of an installed database.
pub fn parse_apk_installed(input: &[u8], limits: &Limits) -> Result<Vec<Package>, Error> {
    let mut packages = Vec::new();
    for (count, record) in text::records(text::lines(input, limits)?).enumerate() {
        limits.check_package_count(count + 1)?;
        packages.push(read_record(&record, limits)?);
    }
    Ok(packages)
}

#[derive(Default)]
struct Record<'a> {
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
}

fn read_record(lines: &[Line<'_>], limits: &Limits) -> Result<Package, Error> {
    let start = lines.first().map_or(0, |l| l.number);
    let mut record = Record::default();
    for line in lines {
        let malformed = Error::MalformedLine { line: line.number };
        let mut chars = line.text.char_indices();
        let (Some((_, key)), Some((_, ':'))) = (chars.next(), chars.next()) else {
            return Err(malformed);
        };
        let value = line.text.get(key.len_utf8() + 1..).ok_or(malformed)?;
        text::check_field(
            line.number,
            key.encode_utf8(&mut [0; 4]),
            value.len(),
            limits,
        )?;
        let slot = match key {
            'P' => &mut record.name,
            'V' => &mut record.version,
            'A' => &mut record.arch,
            'o' => &mut record.origin,
            _ => continue,
        };
        if slot.is_some() {
            return Err(Error::DuplicateField {
                line: line.number,
                field: key.to_string(),
            });
        }
        if value.is_empty() || value.contains(char::is_whitespace) {
            return Err(Error::MalformedValue {
                line: line.number,
                field: field_name(key),
            });
        }
        *slot = Some(value);
    }
    let name = record.name.ok_or(Error::MissingField {
        line: start,
        field: "P (name)",
    })?;
    let version = record.version.ok_or(Error::MissingField {
        line: start,
        field: "V (version)",
    })?;
    Ok(Package {
        name: name.to_owned(),
        version: version.to_owned(),
        source_name: record.origin.map(str::to_owned),
        // apk builds every subpackage of an origin at the origin's version.
        source_version: record.origin.map(|_| version.to_owned()),
        arch: record.arch.map(str::to_owned),
        ecosystem: Ecosystem::Apk,
    })
}

fn field_name(key: char) -> &'static str {
    match key {
        'P' => "P (name)",
        'V' => "V (version)",
        'A' => "A (arch)",
        _ => "o (origin)",
    }
}
