//! A realistic host built in process: an RSA-2048 restricted signing AK, a boot event log
//! of about 100 events (sha1 and sha256 banks), an ASCII IMA list of about 1,000 entries,
//! and genuine TPMS_ATTEST quotes over sha256 PCRs 0-10, signed with the AK the way a TPM
//! signs them (RSASSA-PKCS1-v1_5, SHA-256).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use ironroot_crypto::{digest, HashAlg};
use ironroot_evidence::{
    boot_aggregate, efi_global_variable_guid, efi_image_load_event, efi_variable_data, EventLog,
    EventLogBuilder, EventType, ImaListBuilder, ImaLog,
};
use ironroot_tpm_wire::{
    alg, hierarchy_qualified_name, qualified_name, PcrValues, Signature, TpmPublic, Writer,
    TPM_GENERATED_VALUE, TPM_RH_ENDORSEMENT, TPM_ST_ATTEST_QUOTE,
};

/// Why the fixture could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("RSA key generation or signing failed")]
    Rsa,
    #[error("marshalling: {0}")]
    Wire(#[from] ironroot_tpm_wire::WireError),
    #[error("event log: {0}")]
    Build(#[from] ironroot_evidence::BuildError),
    #[error("event log: {0}")]
    EventLog(#[from] ironroot_evidence::EventLogError),
    #[error("IMA list: {0}")]
    Ima(#[from] ironroot_evidence::ImaError),
}

pub const BOOT_EVENTS: usize = 100;
pub const IMA_FILES: usize = 999;
const QUOTED_PCRS: std::ops::RangeInclusive<u32> = 0..=10;

/// One quote as the agent sends it.
pub struct Quote {
    pub attest: Vec<u8>,
    pub signature: Vec<u8>,
    /// The bare RSA signature inside `signature`.
    pub rsa_sig: Vec<u8>,
    pub nonce: Vec<u8>,
    pub pcrs: PcrValues,
}

pub struct Ak {
    key: KeyPair,
    pub public: TpmPublic,
    pub qualified_name: Vec<u8>,
}

impl Ak {
    pub fn generate() -> Result<Self, FixtureError> {
        let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| FixtureError::Rsa)?;
        let modulus = key.public_key().modulus().big_endian_without_leading_zero();
        // TPMT_PUBLIC of an RSA restricted signing key, as tpm2_createak makes it.
        let attributes = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 16) | (1 << 18);
        let mut w = Writer::new();
        w.u16(alg::RSA)
            .u16(alg::hash_to_tpm(HashAlg::Sha256))
            .u32(attributes)
            .tpm2b(&[], "authPolicy")?
            .u16(alg::NULL)
            .u16(alg::RSASSA)
            .u16(alg::hash_to_tpm(HashAlg::Sha256))
            .u16(2048)
            .u32(0)
            .tpm2b(modulus, "unique")?;
        let public = TpmPublic::parse_tpmt(&w.into_bytes())?;
        let parent = hierarchy_qualified_name(TPM_RH_ENDORSEMENT);
        let qualified_name = qualified_name(&parent, &public.name(), HashAlg::Sha256);
        Ok(Ak {
            key,
            public,
            qualified_name,
        })
    }

    /// TPM2_Quote over sha256 PCRs 0-10 of `pcrs`.
    pub fn quote(&self, pcrs: &PcrValues, nonce: &[u8], clock: u64) -> Result<Quote, FixtureError> {
        let mut composite = Vec::new();
        for i in QUOTED_PCRS {
            let v = pcrs
                .get(HashAlg::Sha256, i)
                .map_or(vec![0; 32], |d| d.0.clone());
            composite.extend(v);
        }
        let mut w = Writer::new();
        w.u32(TPM_GENERATED_VALUE)
            .u16(TPM_ST_ATTEST_QUOTE)
            .tpm2b(&self.qualified_name, "qualifiedSigner")?
            .tpm2b(nonce, "extraData")?
            .bytes(&clock.to_be_bytes())
            .u32(3)
            .u32(0)
            .bytes(&[1])
            .bytes(&0x2023_0101_0000_0000u64.to_be_bytes())
            .u32(1)
            .u16(alg::hash_to_tpm(HashAlg::Sha256))
            .bytes(&[3, 0xFF, 0x07, 0x00])
            .tpm2b(&digest(HashAlg::Sha256, &composite), "pcrDigest")?;
        let attest = w.into_bytes();
        let mut rsa_sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                &attest,
                &mut rsa_sig,
            )
            .map_err(|_| FixtureError::Rsa)?;
        let signature = Signature::RsaSsa {
            hash: HashAlg::Sha256,
            sig: rsa_sig.clone(),
        }
        .marshal()?;
        let mut quoted = PcrValues::default();
        for i in QUOTED_PCRS {
            let v = pcrs
                .get(HashAlg::Sha256, i)
                .map_or(vec![0; 32], |d| d.0.clone());
            quoted.set(HashAlg::Sha256, i, v);
        }
        Ok(Quote {
            attest,
            signature,
            rsa_sig,
            nonce: nonce.to_vec(),
            pcrs: quoted,
        })
    }
}

/// A UEFI boot of `BOOT_EVENTS` events: firmware, variables, option ROMs, boot loader,
/// kernel, command line and initrd, in both the sha1 and sha256 banks.
pub fn boot_log() -> Result<Vec<u8>, FixtureError> {
    let mut b = EventLogBuilder::new(&[HashAlg::Sha1, HashAlg::Sha256])?;
    b.startup_locality(0)?;
    b.measure(0, EventType::SCrtmVersion, b"CRTM 1.0\0", b"crtm")?;
    let var = |name: &str, v: &[u8]| efi_variable_data(efi_global_variable_guid(), name, v);
    let mut n = 2;
    for i in 0..30u32 {
        b.measure(
            0,
            EventType::EfiPlatformFirmwareBlob2,
            b"\0",
            &i.to_le_bytes(),
        )?;
        b.measure(
            2,
            EventType::EfiBootServicesDriver,
            b"\0",
            &(i + 100).to_le_bytes(),
        )?;
        n += 2;
    }
    for name in ["SecureBoot", "PK", "KEK", "db", "dbx"] {
        let d = var(name, name.as_bytes());
        b.measure(7, EventType::EfiVariableDriverConfig, &d, &d)?;
        n += 1;
    }
    for i in 0..10u32 {
        let d = var(&format!("Boot{i:04}"), &i.to_le_bytes());
        b.measure(1, EventType::EfiVariableBoot, &d, &d)?;
        n += 1;
    }
    for pcr in 0..=7 {
        b.measure(pcr, EventType::Separator, &[0; 4], &[0; 4])?;
        n += 1;
    }
    for (path, content) in [
        ("\\EFI\\BOOT\\BOOTX64.EFI", &b"shim 15.8"[..]),
        ("\\EFI\\fedora\\grubx64.efi", b"grub 2.12"),
        ("\\vmlinuz-6.8", b"kernel 6.8"),
    ] {
        b.measure(
            4,
            EventType::EfiBootServicesApplication,
            &efi_image_load_event(path),
            content,
        )?;
        n += 1;
    }
    b.measure(
        8,
        EventType::Ipl,
        b"kernel_cmdline: root=/dev/sda1 ro\0",
        b"root=/dev/sda1 ro",
    )?;
    n += 1;
    while n < BOOT_EVENTS {
        let text = format!("grub_cmd: insmod part{n}\0");
        b.measure(8, EventType::Ipl, text.as_bytes(), text.as_bytes())?;
        n += 1;
    }
    b.measure(9, EventType::Ipl, b"/boot/vmlinuz-6.8\0", b"kernel 6.8")?;
    b.measure(
        9,
        EventType::Ipl,
        b"/boot/initramfs-6.8.img\0",
        b"initrd 6.8",
    )?;
    Ok(b.to_bytes())
}

/// The IMA list after boot: the boot aggregate and `IMA_FILES` files.
pub fn ima_list(boot: &EventLog) -> Result<ImaListBuilder, FixtureError> {
    let mut b = ImaListBuilder::new();
    b.boot_aggregate(&boot_aggregate(&boot.replay(), HashAlg::Sha256))?;
    for i in 0..IMA_FILES {
        let dir = ["/usr/bin", "/usr/lib64", "/usr/libexec/containerd", "/etc"][i % 4];
        let path = format!("{dir}/file-{i:04}");
        b.measure(
            &path,
            HashAlg::Sha256,
            &digest(HashAlg::Sha256, path.as_bytes()),
        )?;
    }
    Ok(b)
}

/// What the TPM holds: the replay of both logs.
pub fn pcrs(boot: &EventLog, ima: &ImaLog) -> PcrValues {
    let mut pcrs = boot.replay();
    for (bank, values) in ima.replay(&[HashAlg::Sha256]).0 {
        for (i, v) in values {
            pcrs.set(bank, i, v.0);
        }
    }
    pcrs
}
