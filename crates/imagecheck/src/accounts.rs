//! etc/passwd and etc/shadow, read line by line and leniently: a line that cannot be read is
//! counted and reported, and the others are still checked.

/// Longer lines are not accounts (real ones are under 200 bytes; a yescrypt hash is 73).
pub(crate) const MAX_LINE_BYTES: usize = 4096;

/// One account line: its name, its second field, and the numeric uid when the file has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Account {
    pub name: String,
    pub password: String,
    pub uid: Option<u32>,
    pub line: usize,
}

impl Account {
    /// The name as a report shows it: as it is when it is a portable user name (letters,
    /// digits, `.`, `_`, `-`, and a final `$` for machine accounts, at most 32 bytes), else
    /// a placeholder, so that no other bytes of the account files (a hash field among
    /// them, on a malformed line) are echoed into a report.
    pub fn shown(&self) -> String {
        let body = self.name.strip_suffix('$').unwrap_or(&self.name);
        let portable = !body.is_empty()
            && self.name.len() <= 32
            && !body.starts_with('-')
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if portable {
            format!("account {} (line {})", self.name, self.line)
        } else {
            format!("an account with an unusual name (line {})", self.line)
        }
    }
}

/// The accounts of one file and what went wrong with the lines that are not.
#[derive(Debug, Default)]
pub(crate) struct AccountFile {
    pub accounts: Vec<Account>,
    pub bad_lines: usize,
    pub first_problem: Option<String>,
}

impl AccountFile {
    fn bad(&mut self, line: usize, why: &str) {
        self.bad_lines += 1;
        if self.first_problem.is_none() {
            self.first_problem = Some(format!("line {line}: {why}"));
        }
    }
}

/// Parses `name:password:...` lines; `min_fields` is 7 for passwd, 2 for shadow (its aging
/// fields are often left empty or cut short by hand-written Dockerfiles).
pub(crate) fn parse(bytes: &[u8], min_fields: usize, uid_field: Option<usize>) -> AccountFile {
    let mut file = AccountFile::default();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let n = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        if raw.len() > MAX_LINE_BYTES {
            file.bad(n, "line too long");
            continue;
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            file.bad(n, "not UTF-8");
            continue;
        };
        if line.starts_with('#') {
            continue;
        }
        // NIS compat entries (`+`, `-name`) are not local accounts.
        if line.starts_with('+') || line.starts_with('-') {
            continue;
        }
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < min_fields || fields[0].is_empty() || line.contains('\0') {
            file.bad(n, "not an account line");
            continue;
        }
        let uid = match uid_field.map(|f| fields.get(f).map(|s| s.parse::<u32>())) {
            Some(Some(Ok(uid))) => Some(uid),
            Some(_) => {
                file.bad(n, "uid is not a number");
                continue;
            }
            None => None,
        };
        file.accounts.push(Account {
            name: fields[0].to_owned(),
            password: fields[1].to_owned(),
            uid,
            line: n,
        });
    }
    file
}

/// What an account's password field says, before any guessing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordField<'a> {
    /// Empty: login without a password.
    Empty,
    /// `!`, `*`, `!!`, `!<hash>`, `*LK*`, ...: no password login.
    Locked,
    /// passwd's `x`: the hash is in etc/shadow.
    InShadow,
    Hash(&'a str),
}

pub(crate) fn password_field(field: &str, in_passwd: bool) -> PasswordField<'_> {
    if field.is_empty() {
        PasswordField::Empty
    } else if in_passwd && field == "x" {
        PasswordField::InShadow
    } else if field.starts_with('!') || field.starts_with('*') {
        PasswordField::Locked
    } else {
        PasswordField::Hash(field)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn named(name: &str) -> String {
        Account {
            name: name.into(),
            password: String::new(),
            uid: None,
            line: 3,
        }
        .shown()
    }

    #[test]
    fn reports_show_portable_names_only() {
        assert_eq!(named("postgres"), "account postgres (line 3)");
        assert_eq!(named("WS01$"), "account WS01$ (line 3)");
        assert_eq!(named("svc.backup-2_x"), "account svc.backup-2_x (line 3)");
        // The fuzzer's case: a malformed line whose first field holds a hash.
        for odd in [
            "x$6$salt$hash",
            "  \"PATH=/usr",
            "-rf",
            "$",
            &"a".repeat(33),
        ] {
            assert_eq!(
                named(odd),
                "an account with an unusual name (line 3)",
                "{odd}"
            );
        }
    }
}
