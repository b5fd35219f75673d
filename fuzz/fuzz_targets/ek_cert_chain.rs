//! The EK certificate an agent presents at enrollment, checked by `EkRoots::verify`
//! against configured EK CAs (untrusted DER, untrusted TPM2B_PUBLIC).
//!
//! Input layout, so that seeds can be real chains: a big-endian u16 length of the EK's
//! TPM2B_PUBLIC, the TPM2B_PUBLIC, and the certificate's DER as the rest. When the prefix
//! does not hold a key that parses, the whole input is the certificate and the EK is the
//! swtpm one of the fixtures, so that every input reaches the X.509 parser. The roots are
//! `fixtures/ekcert/roots.pem` (made by its `make-fixtures.sh`, like the seeds).
#![no_main]

use ironroot_tpm_wire::EkRoots;
use ironroot_tpm_wire::TpmPublic;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Inside the validity of every fixture certificate (2030-03-17).
const NOW: i64 = 1_900_000_000;
const ROOTS_PEM: &[u8] = include_bytes!("../fixtures/ekcert/roots.pem");
const FIXTURE_EK: &[u8] = include_bytes!("../../crates/tpm-wire/tests/fixtures/ek-rsa.pub");

fn take<'a>(data: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (len, rest) = data.split_first_chunk::<2>()?;
    let len = usize::from(u16::from_be_bytes(*len));
    if rest.len() < len {
        return None;
    }
    let (field, rest) = rest.split_at(len);
    *data = rest;
    Some(field)
}

struct Fixtures {
    roots: EkRoots,
    ek: TpmPublic,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let mut roots = EkRoots::default();
        let n = roots.add_pem(ROOTS_PEM).expect("roots.pem is PEM");
        assert_eq!(n, 2, "roots.pem holds the root and the intermediate");
        let ek = TpmPublic::parse(FIXTURE_EK).expect("the fixture EK parses");
        Fixtures { roots, ek }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixtures();
    let mut rest = data;
    let presented = take(&mut rest).and_then(|ek| TpmPublic::parse(ek).ok());
    let (ek, cert) = match &presented {
        Some(ek) => (ek, rest),
        None => (&f.ek, data),
    };
    let _ = f.roots.verify(cert, ek, NOW);
    // Fail closed: with no EK CA configured, nothing chains.
    assert!(
        EkRoots::default().verify(cert, ek, NOW).is_err(),
        "an EK certificate verified without any configured EK CA"
    );
    // The chain checks must stay total at the edges of time too.
    let _ = f.roots.verify(cert, ek, i64::MIN);
    let _ = f.roots.verify(cert, ek, i64::MAX);
});
