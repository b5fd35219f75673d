//! A realistic host image: a UEFI boot event log (sha1 and sha256 banks) and an ASCII
//! `ima-ng` list, built with `ironroot_evidence`'s writers, and the PCRs their replay gives.

use crate::FixtureError;
use ironroot_crypto::{digest, HashAlg};
use ironroot_evidence::{
    boot_aggregate, efi_global_variable_guid, efi_image_load_event, efi_variable_data, EventLog,
    EventLogBuilder, EventType, ImaListBuilder, ImaLog,
};
use ironroot_tpm_wire::PcrValues;

/// How large a host's logs are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSize {
    /// Boot events; the fixed firmware, variable, boot loader and kernel events come to
    /// 93, so smaller values give 93, larger ones add boot loader commands.
    pub boot_events: usize,
    /// Files in the IMA list (after its boot aggregate entry).
    pub ima_files: usize,
}

impl ImageSize {
    /// A server with a small IMA policy: ~100 boot events, 50 files.
    pub const SMALL: ImageSize = ImageSize {
        boot_events: 100,
        ima_files: 50,
    };
    /// A node measuring its runtime broadly: ~100 boot events, 999 files.
    pub const LARGE: ImageSize = ImageSize {
        boot_events: 100,
        ima_files: 999,
    };
}

/// One host's logs as an agent reads them, and the PCRs a TPM would hold after them.
#[derive(Debug, Clone)]
pub struct HostImage {
    /// binary_bios_measurements.
    pub boot_log: Vec<u8>,
    /// ascii_runtime_measurements.
    pub ima_log: Vec<u8>,
    /// The replay of both logs (sha1 and sha256 boot banks, sha256 PCR 10).
    pub pcrs: PcrValues,
}

impl HostImage {
    pub fn build(size: ImageSize) -> Result<Self, FixtureError> {
        let boot_log = boot_log(size.boot_events)?;
        let boot = EventLog::parse(&boot_log)?;
        let ima = ima_list(&boot, size.ima_files)?;
        Ok(HostImage {
            pcrs: replayed_pcrs(&boot, ima.log()),
            ima_log: ima.to_ascii().into_bytes(),
            boot_log,
        })
    }
}

/// A UEFI boot: firmware, variables, option ROMs, boot loader, kernel, command line and
/// initrd, in both the sha1 and sha256 banks; padded with boot loader commands up to
/// `events`.
pub fn boot_log(events: usize) -> Result<Vec<u8>, FixtureError> {
    let mut b = EventLogBuilder::new(&[HashAlg::Sha1, HashAlg::Sha256])?;
    b.startup_locality(0)?;
    b.measure(0, EventType::SCrtmVersion, b"CRTM 1.0\0", b"crtm")?;
    let var = |name: &str, v: &[u8]| efi_variable_data(efi_global_variable_guid(), name, v);
    let mut n = 2;
    for i in 0..30u32 {
        let blob = i.to_le_bytes();
        b.measure(0, EventType::EfiPlatformFirmwareBlob2, b"\0", &blob)?;
        let driver = (i + 100).to_le_bytes();
        b.measure(2, EventType::EfiBootServicesDriver, b"\0", &driver)?;
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
        let event = efi_image_load_event(path);
        b.measure(4, EventType::EfiBootServicesApplication, &event, content)?;
        n += 1;
    }
    let cmdline = b"kernel_cmdline: root=/dev/sda1 ro\0";
    b.measure(8, EventType::Ipl, cmdline, b"root=/dev/sda1 ro")?;
    n += 1;
    while n < events {
        let text = format!("grub_cmd: insmod part{n}\0");
        b.measure(8, EventType::Ipl, text.as_bytes(), text.as_bytes())?;
        n += 1;
    }
    b.measure(9, EventType::Ipl, b"/boot/vmlinuz-6.8\0", b"kernel 6.8")?;
    let initrd = b"/boot/initramfs-6.8.img\0";
    b.measure(9, EventType::Ipl, initrd, b"initrd 6.8")?;
    Ok(b.to_bytes())
}

/// The IMA list after boot: the boot aggregate of `boot`, then `files` files.
pub fn ima_list(boot: &EventLog, files: usize) -> Result<ImaListBuilder, FixtureError> {
    let mut b = ImaListBuilder::new();
    b.boot_aggregate(&boot_aggregate(&boot.replay(), HashAlg::Sha256))?;
    for i in 0..files {
        let dir = ["/usr/bin", "/usr/lib64", "/usr/libexec/containerd", "/etc"][i % 4];
        let path = format!("{dir}/file-{i:04}");
        let d = digest(HashAlg::Sha256, path.as_bytes());
        b.measure(&path, HashAlg::Sha256, &d)?;
    }
    Ok(b)
}

/// What the TPM holds after both logs: the boot replay, with PCR 10 from IMA (sha256).
pub fn replayed_pcrs(boot: &EventLog, ima: &ImaLog) -> PcrValues {
    let mut pcrs = boot.replay();
    for (bank, values) in ima.replay(&[HashAlg::Sha256]).0 {
        for (i, v) in values {
            pcrs.set(bank, i, v.0);
        }
    }
    pcrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_sizes_are_as_asked_and_logs_parse_back() {
        for size in [ImageSize::SMALL, ImageSize::LARGE] {
            let img = HostImage::build(size).unwrap();
            let boot = EventLog::parse(&img.boot_log).unwrap();
            let ima = ImaLog::parse(&img.ima_log).unwrap();
            assert!(boot.events.len() >= size.boot_events);
            assert_eq!(ima.entries.len(), size.ima_files + 1);
            assert_eq!(replayed_pcrs(&boot, &ima), img.pcrs);
            assert!(img.pcrs.get(HashAlg::Sha256, 10).is_some());
        }
    }
}
