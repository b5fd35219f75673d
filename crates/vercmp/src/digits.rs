//! Numeric runs compared as decimal digit strings, so that a 30-digit date stamp or build
//! number orders correctly instead of overflowing an integer.

use std::cmp::Ordering;

/// The digits without leading zeros (`"007"` → `"7"`, `"000"` → `""`, which is zero).
pub(crate) fn strip_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

/// Compares two runs of ASCII digits by numeric value; leading zeros do not count.
pub(crate) fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (strip_zeros(a), strip_zeros(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The length of the run of ASCII digits at the start of `s`.
pub(crate) fn digit_run(s: &[u8]) -> usize {
    s.iter().take_while(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_do_not_count() {
        assert_eq!(cmp_digits(b"09", b"9"), Ordering::Equal);
        assert_eq!(cmp_digits(b"", b"000"), Ordering::Equal);
        assert_eq!(cmp_digits(b"010", b"9"), Ordering::Greater);
    }

    #[test]
    fn numbers_longer_than_u64_compare_by_value() {
        let big = b"123456789012345678901234567890";
        let bigger = b"123456789012345678901234567891";
        assert_eq!(cmp_digits(big, bigger), Ordering::Less);
        assert_eq!(
            cmp_digits(bigger, b"99999999999999999999"),
            Ordering::Greater
        );
    }
}
