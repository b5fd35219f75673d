//! Reading gathered configuration files as text.

use crate::finding::{self as rule, Finding};
use ironroot_layers::Overlay;
use std::borrow::Cow;

/// A gathered text file.
pub(crate) struct TextFile<'a> {
    pub path: &'a str,
    pub layer: usize,
    pub text: Cow<'a, str>,
}

/// The text of `path`, if gathered. Keywords of these files are ASCII, so a stray invalid
/// byte (a Latin-1 comment) is replaced rather than costing the whole file. A file kept
/// without content (over the size limit) gives a finding and `None`.
pub(crate) fn read<'a>(
    files: &'a Overlay,
    path: &'a str,
    out: &mut Vec<Finding>,
) -> Option<TextFile<'a>> {
    let file = files.get(path)?;
    let Some(bytes) = &file.content else {
        out.push(
            Finding::new(&rule::FILE_NOT_READ)
                .at(path, file.layer)
                .evidence(format!(
                    "{} bytes, over the limit of {}",
                    file.size,
                    crate::want::MAX_CONTENT_BYTES
                )),
        );
        return None;
    };
    Some(TextFile {
        path,
        layer: file.layer,
        text: String::from_utf8_lossy(bytes),
    })
}

/// Lines without comments (`#` to the end) and blank lines, numbered from 1, trimmed.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or("").trim();
        (!l.is_empty()).then_some((i + 1, l))
    })
}
