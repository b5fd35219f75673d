//! Text for terminals and logs: [`Table`], and [`printable`], which every line that shows
//! a string from the service or a node goes through, so that no such string can end a
//! line, forge another, or send the terminal an escape sequence.

/// `s` with every character that is not plainly printable escaped: the one rule, kept
/// beside the client's error texts that go through it too.
pub use ironroot_client::printable;
use std::borrow::Cow;

/// A plain text table with aligned columns, for terminals and logs. Every cell is shown
/// through [`printable`].
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| printable(s).into_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| match printable(&c) {
                    Cow::Borrowed(_) => c,
                    Cow::Owned(escaped) => escaped,
                })
                .collect(),
        );
    }

    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0usize; cols];
        for r in std::iter::once(&self.header).chain(&self.rows) {
            for (i, c) in r.iter().enumerate().take(cols) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let line = |r: &Vec<String>| {
            let cells: Vec<String> = (0..cols)
                .map(|i| {
                    let c = r.get(i).map(String::as_str).unwrap_or("");
                    format!("{c:<w$}", w = width[i])
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        };
        let mut out = line(&self.header);
        out.push('\n');
        out.push_str(
            &width
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("  "),
        );
        for r in &self.rows {
            out.push('\n');
            out.push_str(&line(r));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let mut t = Table::new(&["HOST", "TRUST"]);
        t.row(vec!["node-1".into(), "trusted".into()]);
        t.row(vec!["n3".into(), "untrusted".into()]);
        assert_eq!(
            t.render(),
            "HOST    TRUST\n------  ---------\nnode-1  trusted\nn3      untrusted"
        );
    }

    #[test]
    fn hostname_with_newline_cannot_forge_a_table_row() {
        let mut t = Table::new(&["HOST", "TRUST"]);
        t.row(vec!["evil\nnode-1  TRUSTED".into(), "untrusted".into()]);
        let out = t.render();
        assert_eq!(out.lines().count(), 3, "{out}");
        assert!(out.contains("evil\\nnode-1  TRUSTED"), "{out}");
        assert!(!out.lines().any(|l| l.starts_with("node-1")), "{out}");
    }

    #[test]
    fn hostname_with_terminal_escape_cannot_clear_the_screen() {
        let mut t = Table::new(&["HOST"]);
        t.row(vec!["node\x1b[2J\x1b]0;pwned\x07\r".into()]);
        let out = t.render();
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
        assert!(
            out.ends_with("node\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\r"),
            "{out:?}"
        );
    }

    #[test]
    fn forged_escape_sequences_and_invisible_characters_are_shown() {
        // A literal backslash is doubled, so "a\\nb" (backslash, n) and "a\nb" (newline)
        // never look the same.
        assert_eq!(printable("a\\nb"), "a\\\\nb");
        assert_eq!(printable("a\nb"), "a\\nb");
        // Bidirectional overrides, line separators, zero-width characters, DEL and C1.
        assert_eq!(printable("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(printable("a\u{2028}b"), "a\\u{2028}b");
        assert_eq!(printable("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(printable("\u{7f}\u{9b}"), "\\u{7f}\\u{9b}");
        // Ordinary text is borrowed untouched, quotes and non-ASCII letters included.
        for s in ["node-1.example", "it's \"fine\"", "Zürich µ 東京", ""] {
            assert!(matches!(printable(s), Cow::Borrowed(b) if b == s), "{s}");
        }
    }
}
