//! Line splitting shared by the text databases (dpkg and apk): UTF-8 checked once with the
//! failing line reported, CRLF accepted (files copied through Windows tooling end up so).

use crate::{Error, Limits};

/// One line without its terminator, with its 1-based number.
pub(crate) struct Line<'a> {
    pub number: usize,
    pub text: &'a str,
}

/// Checks size and UTF-8, then yields the lines of `input`.
pub(crate) fn lines<'a>(
    input: &'a [u8],
    limits: &Limits,
) -> Result<impl Iterator<Item = Line<'a>>, Error> {
    limits.check_input(input)?;
    let text = std::str::from_utf8(input).map_err(|e| {
        let offset = e.valid_up_to();
        let line = input
            .get(..offset)
            .map_or(0, |before| before.iter().filter(|b| **b == b'\n').count())
            + 1;
        Error::NotUtf8 { line, offset }
    })?;
    Ok(text.split('\n').enumerate().map(|(i, raw)| Line {
        number: i + 1,
        text: raw.strip_suffix('\r').unwrap_or(raw),
    }))
}

/// Groups lines into blank-line separated records; yields each record's lines.
pub(crate) fn records<'a>(
    lines: impl Iterator<Item = Line<'a>>,
) -> impl Iterator<Item = Vec<Line<'a>>> {
    let mut lines = lines.peekable();
    std::iter::from_fn(move || {
        while lines.peek().is_some_and(|l| l.text.trim().is_empty()) {
            lines.next();
        }
        let mut record = Vec::new();
        while let Some(line) = lines.next_if(|l| !l.text.trim().is_empty()) {
            record.push(line);
        }
        (!record.is_empty()).then_some(record)
    })
}

/// Rejects a value longer than the field limit.
pub(crate) fn check_field(
    line: usize,
    field: &str,
    len: usize,
    limits: &Limits,
) -> Result<(), Error> {
    if len > limits.max_field_bytes {
        return Err(Error::FieldTooLong {
            line,
            field: truncated_name(field),
            max: limits.max_field_bytes,
        });
    }
    Ok(())
}

/// Field names go into errors; a hostile one must not make the error huge.
pub(crate) fn truncated_name(field: &str) -> String {
    field.chars().take(64).collect()
}
