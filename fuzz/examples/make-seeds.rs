//! Writes the seed corpora in `fuzz/seeds/<target>/`: valid inputs that start each fuzz
//! target deep inside its parser instead of at the first length check.
//!
//! TPM structures come from the swtpm fixtures of ironroot-tpm-wire (made by their
//! `regen.sh`), so rerun this after regenerating those. Event logs and IMA lists come from
//! the same builders development nodes use. Run from anywhere:
//! `cargo run --manifest-path fuzz/Cargo.toml --example make-seeds`

use ironroot_api::{EnrollRequest, EvidenceRequest, B64};
use ironroot_crypto::HashAlg;
use ironroot_evidence::{
    efi_global_variable_guid, efi_image_load_event, efi_image_security_database_guid,
    efi_variable_data, EventLogBuilder, EventType, ImaListBuilder,
};
use ironroot_evidence::{EventLog, ImaLog};
use ironroot_tpm_wire::{
    verify_certify, verify_quote, Attest, PcrValues, QuoteError, Signature, TpmPublic,
};
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The PCRs `regen.sh` quotes, in the order `tpm2_pcrread -o` wrote them.
const FIXTURE_PCRS: [u32; 4] = [0, 1, 2, 10];

struct Seeds {
    fixtures: PathBuf,
    out: PathBuf,
}

impl Seeds {
    fn fixture(&self, name: &str) -> Result<Vec<u8>> {
        let path = self.fixtures.join(name);
        fs::read(&path).map_err(|e| format!("{}: {e}", path.display()).into())
    }

    fn write(&self, target: &str, name: &str, bytes: &[u8]) -> Result<()> {
        let dir = self.out.join(target);
        fs::create_dir_all(&dir)?;
        fs::write(dir.join(name), bytes)?;
        Ok(())
    }

    fn copy(&self, target: &str, names: &[&str]) -> Result<()> {
        for name in names {
            self.write(target, name, &self.fixture(name)?)?;
        }
        Ok(())
    }
}

fn main() -> Result<()> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = Seeds {
        fixtures: fuzz.join("../crates/tpm-wire/tests/fixtures"),
        out: fuzz.join("seeds"),
    };
    // Start clean so that seeds of renamed fixtures do not linger.
    for target in TARGETS {
        let dir = seeds.out.join(target);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
    }
    seeds.copy(
        "tpms_attest",
        &["quote-rsa.msg", "quote-ecc.msg", "certify-rsa.attest"],
    )?;
    seeds.copy(
        "tpm2b_public",
        &[
            "ak-rsa.pub",
            "ak-ecc.pub",
            "ek-rsa.pub",
            "ek-ecc.pub",
            "certified.pub",
        ],
    )?;
    seeds.copy(
        "tpmt_signature",
        &["quote-rsa.sig", "quote-ecc.sig", "certify-rsa.sig"],
    )?;
    quote_verify(&seeds)?;
    event_logs(&seeds)?;
    ima_lists(&seeds)?;
    evidence_json(&seeds)?;
    check(&seeds.out)?;
    check_ek_cert_chain(fuzz, &seeds.out)?;
    println!("seeds written to {}", seeds.out.display());
    Ok(())
}

const TARGETS: [&str; 7] = [
    "tpms_attest",
    "tpm2b_public",
    "tpmt_signature",
    "quote_verify",
    "event_log",
    "ima_list",
    "evidence_json",
];

/// The layout `fuzz_targets/quote_verify.rs` splits its input by.
fn quote_verify(seeds: &Seeds) -> Result<()> {
    for (name, ak, attest, sig) in [
        ("quote-rsa", "ak-rsa.pub", "quote-rsa.msg", "quote-rsa.sig"),
        ("quote-ecc", "ak-ecc.pub", "quote-ecc.msg", "quote-ecc.sig"),
        (
            "certify-rsa",
            "ak-rsa.pub",
            "certify-rsa.attest",
            "certify-rsa.sig",
        ),
    ] {
        let mut input = Vec::new();
        for field in [seeds.fixture(ak)?, seeds.fixture(attest)?] {
            input.extend_from_slice(&u16::try_from(field.len())?.to_be_bytes());
            input.extend_from_slice(&field);
        }
        input.extend_from_slice(&seeds.fixture(sig)?);
        seeds.write("quote_verify", name, &input)?;
    }
    Ok(())
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// A short UEFI boot: every event type whose data the parser looks into, kept small.
fn boot_log(banks: &[HashAlg], startup_locality: Option<u8>) -> Result<Vec<u8>> {
    let mut log = EventLogBuilder::new(banks)?;
    if let Some(locality) = startup_locality {
        log.startup_locality(locality)?;
    }
    let global = efi_global_variable_guid();
    let db = efi_image_security_database_guid();
    let version = utf16("ironroot devfw 1.0");
    log.measure(0, EventType::SCrtmVersion, &version, &version)?;
    log.measure(
        0,
        EventType::EfiPlatformFirmwareBlob2,
        b"\x0cOVMF_CODE.fd",
        b"fw",
    )?;
    let boot_order = efi_variable_data(global, "BootOrder", &[0, 0]);
    log.measure(1, EventType::EfiVariableBoot, &boot_order, &boot_order)?;
    let secure_boot = efi_variable_data(global, "SecureBoot", &[1]);
    log.measure(
        7,
        EventType::EfiVariableDriverConfig,
        &secure_boot,
        &secure_boot,
    )?;
    for pcr in 0..=7 {
        log.measure(pcr, EventType::Separator, &[0; 4], &[0; 4])?;
    }
    let action = b"Calling EFI Application from Boot Option";
    log.measure(4, EventType::EfiAction, action, action)?;
    let image = efi_image_load_event("\\EFI\\ironroot\\shimx64.efi");
    log.measure(4, EventType::EfiBootServicesApplication, &image, b"shim")?;
    let authority = efi_variable_data(db, "db", b"cert");
    log.measure(7, EventType::EfiVariableAuthority, &authority, &authority)?;
    log.measure(8, EventType::Ipl, b"kernel_cmdline: ro quiet", b"ro quiet")?;
    log.measure(9, EventType::Ipl, b"/boot/vmlinuz", b"kernel")?;
    Ok(log.to_bytes())
}

fn event_logs(seeds: &Seeds) -> Result<()> {
    seeds.write("event_log", "sha256", &boot_log(&[HashAlg::Sha256], None)?)?;
    seeds.write(
        "event_log",
        "sha1-sha256-locality3",
        &boot_log(&[HashAlg::Sha1, HashAlg::Sha256], Some(3))?,
    )?;
    seeds.write("event_log", "all-banks", &boot_log(&HashAlg::ALL, None)?)?;
    Ok(())
}

fn ima_list() -> Result<ImaListBuilder> {
    let mut list = ImaListBuilder::new();
    list.boot_aggregate(&[0x11; 32])?;
    list.measure("/usr/bin/runc", HashAlg::Sha256, &[0x22; 32])?;
    list.measure("/opt/my app/run me", HashAlg::Sha256, &[0x33; 32])?;
    list.measure("/usr/lib/libc.so.6", HashAlg::Sha1, &[0x44; 20])?;
    list.measure("/usr/bin/containerd", HashAlg::Sha512, &[0x55; 64])?;
    Ok(list)
}

fn ima_lists(seeds: &Seeds) -> Result<()> {
    let list = ima_list()?;
    seeds.write("ima_list", "ascii", list.to_ascii().as_bytes())?;
    seeds.write("ima_list", "binary", &list.to_binary())?;
    Ok(())
}

fn evidence_json(seeds: &Seeds) -> Result<()> {
    let mut pcrs = PcrValues::default();
    let values = seeds.fixture("pcrs-sha256-0-1-2-10.bin")?;
    for (index, value) in FIXTURE_PCRS
        .iter()
        .zip(values.chunks(HashAlg::Sha256.len()))
    {
        pcrs.set(HashAlg::Sha256, *index, value.to_vec());
    }
    let mut evidence = EvidenceRequest {
        nonce: B64(seeds.fixture("nonce.bin")?),
        attest: B64(seeds.fixture("quote-rsa.msg")?),
        signature: B64(seeds.fixture("quote-rsa.sig")?),
        pcrs,
        event_log: None,
        ima_log: None,
        asset_tag: None,
    };
    seeds.write(
        "evidence_json",
        "evidence-quote-only.json",
        &serde_json::to_vec(&evidence)?,
    )?;
    evidence.event_log = Some(B64(boot_log(&[HashAlg::Sha256], None)?));
    evidence.ima_log = Some(B64(ima_list()?.to_ascii().into_bytes()));
    seeds.write(
        "evidence_json",
        "evidence-with-logs.json",
        &serde_json::to_vec_pretty(&evidence)?,
    )?;

    let enroll = EnrollRequest {
        hostname: "node-1.example".into(),
        hardware_uuid: "4c4c4544-0042-3510-8052-b4c04f4e3732".into(),
        ek_public: B64(seeds.fixture("ek-rsa.pub")?),
        ek_certificate: Some(B64(b"not a certificate".to_vec())),
        ak_public: B64(seeds.fixture("ak-rsa.pub")?),
    };
    seeds.write(
        "evidence_json",
        "enroll.json",
        &serde_json::to_vec(&enroll)?,
    )?;
    Ok(())
}

/// A seed that fails early is a wasted seed: every one must pass its parser, and the
/// quote seeds must get through the signature check to the nonce comparison.
fn check(out: &Path) -> Result<()> {
    for target in TARGETS {
        for entry in fs::read_dir(out.join(target))? {
            let path = entry?.path();
            let bytes = fs::read(&path)?;
            let outcome = check_seed(target, &bytes);
            outcome.map_err(|e| format!("seed {} is not valid: {e}", path.display()))?;
        }
    }
    Ok(())
}

fn check_seed(target: &str, bytes: &[u8]) -> Result<()> {
    match target {
        "tpms_attest" => drop(Attest::parse(bytes)?),
        "tpm2b_public" => drop(TpmPublic::parse(bytes)?),
        "tpmt_signature" => drop(Signature::parse(bytes)?),
        "quote_verify" => check_quote_seed(bytes)?,
        "event_log" => drop(EventLog::parse(bytes)?),
        "ima_list" => drop(ImaLog::parse(bytes)?),
        "evidence_json" => {
            let evidence = serde_json::from_slice::<EvidenceRequest>(bytes);
            let enroll = serde_json::from_slice::<EnrollRequest>(bytes);
            if evidence.is_err() && enroll.is_err() {
                return Err("neither an EvidenceRequest nor an EnrollRequest".into());
            }
        }
        other => return Err(format!("no check for target {other}").into()),
    }
    Ok(())
}

fn check_quote_seed(bytes: &[u8]) -> Result<()> {
    let (ak_len, rest) = bytes.split_first_chunk::<2>().ok_or("too short")?;
    let (ak, rest) = rest
        .split_at_checked(usize::from(u16::from_be_bytes(*ak_len)))
        .ok_or("AK length past the end")?;
    let (attest_len, rest) = rest.split_first_chunk::<2>().ok_or("too short")?;
    let (attest, sig) = rest
        .split_at_checked(usize::from(u16::from_be_bytes(*attest_len)))
        .ok_or("attest length past the end")?;
    let ak = TpmPublic::parse(ak)?;
    let quote = verify_quote(&ak, None, attest, sig, b"nonce", &PcrValues::default());
    let certify = verify_certify(&ak, attest, sig, b"nonce", &ak);
    match (quote, certify) {
        (Err(QuoteError::NonceMismatch), _) | (_, Err(QuoteError::NonceMismatch)) => Ok(()),
        (q, c) => Err(format!("stops before the nonce check: {q:?} / {c:?}").into()),
    }
}

/// The seeds of `ek_cert_chain` are made by `fixtures/ekcert/make-fixtures.sh` (openssl), not
/// here; this checks that the two chains get through every check of `EkRoots::verify` and
/// that the two decoys fail where they should, at the time the target verifies at.
fn check_ek_cert_chain(fuzz: &Path, out: &Path) -> Result<()> {
    use ironroot_tpm_wire::{EkCertError, EkRoots};
    let mut roots = EkRoots::default();
    roots.add_pem(&fs::read(fuzz.join("fixtures/ekcert/roots.pem"))?)?;
    for (seed, expected) in [
        ("rsa-by-root", Ok(())),
        ("ecc-by-intermediate", Ok(())),
        ("rsa-cert-for-ecc-ek", Err(EkCertError::KeyMismatch)),
        ("intermediate-as-ek", Err(EkCertError::KeyMismatch)),
    ] {
        let bytes = fs::read(out.join("ek_cert_chain").join(seed))?;
        let (len, rest) = bytes.split_first_chunk::<2>().ok_or("too short")?;
        let (ek, cert) = rest
            .split_at_checked(usize::from(u16::from_be_bytes(*len)))
            .ok_or("EK length past the end")?;
        let got = roots.verify(cert, &TpmPublic::parse(ek)?, 1_900_000_000);
        if got != expected {
            return Err(
                format!("ek_cert_chain seed {seed}: {got:?}, expected {expected:?}").into(),
            );
        }
    }
    Ok(())
}
