//! Minimal PEM (RFC 7468) for the few labels this crate reads and writes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use zeroize::Zeroizing;

/// Key files are small; anything bigger than this is not one of ours.
pub const MAX_PEM_LEN: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    #[error("PEM input larger than {MAX_PEM_LEN} bytes")]
    TooLarge,
    #[error("no PEM block found")]
    NoBlock,
    #[error("PEM block has label {0:?}, which is not accepted here")]
    WrongLabel(String),
    #[error("PEM block is not terminated or its base64 is invalid")]
    Malformed,
}

/// Decodes the first PEM block; its label must be one of `labels`. Returns the label found
/// and the body, which is zeroized on drop because it is often a private key.
pub fn decode(
    input: &[u8],
    labels: &[&'static str],
) -> Result<(&'static str, Zeroizing<Vec<u8>>), PemError> {
    if input.len() > MAX_PEM_LEN {
        return Err(PemError::TooLarge);
    }
    let text = std::str::from_utf8(input).map_err(|_| PemError::Malformed)?;
    let mut lines = text.lines().map(str::trim);
    let label = loop {
        let line = lines.next().ok_or(PemError::NoBlock)?;
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            break rest.strip_suffix("-----").ok_or(PemError::Malformed)?;
        }
    };
    let label = labels
        .iter()
        .copied()
        .find(|l| *l == label)
        .ok_or_else(|| PemError::WrongLabel(label.chars().take(64).collect()))?;
    let end = format!("-----END {label}-----");
    let mut body = Zeroizing::new(String::new());
    for line in lines.by_ref() {
        if line == end {
            let der = STANDARD
                .decode(body.as_bytes())
                .map_err(|_| PemError::Malformed)?;
            return Ok((label, Zeroizing::new(der)));
        }
        body.push_str(line);
    }
    Err(PemError::Malformed)
}

/// Encodes `der` as a PEM block with 64-column lines.
pub fn encode(label: &str, der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut out = Zeroizing::new(format!("-----BEGIN {label}-----\n"));
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_label_checks() {
        let pem = encode("PUBLIC KEY", &[1u8; 100]);
        let (label, der) = decode(pem.as_bytes(), &["X", "PUBLIC KEY"]).unwrap();
        assert_eq!((label, der.as_slice()), ("PUBLIC KEY", &[1u8; 100][..]));
        assert!(matches!(
            decode(pem.as_bytes(), &["X"]),
            Err(PemError::WrongLabel(_))
        ));
        let cut = &pem.as_bytes()[..pem.len() - 10];
        assert_eq!(decode(cut, &["PUBLIC KEY"]), Err(PemError::Malformed));
        assert_eq!(decode(b"hello", &["PUBLIC KEY"]), Err(PemError::NoBlock));
    }
}
