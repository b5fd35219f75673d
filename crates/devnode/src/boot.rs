use crate::ima::ImaEmulator;
use crate::{io_err, DevNodeError, NodeLayout};
use ironroot_crypto::HashAlg;
use ironroot_evidence::{
    efi_global_variable_guid, efi_image_load_event, efi_image_security_database_guid,
    efi_variable_data, EventLogBuilder, EventType,
};
use ironroot_tpm::TpmDevice;
use std::collections::BTreeMap;

/// What a boot measured.
#[derive(Debug, Clone)]
pub struct BootSummary {
    pub events: usize,
    pub ima_entries: usize,
    pub banks: Vec<HashAlg>,
}

/// Records one event in the log and extends its digests into the TPM, keeping the two in
/// step exactly as firmware does.
struct Measurer<'a> {
    log: EventLogBuilder,
    tpm: &'a mut dyn TpmDevice,
    events: usize,
}

impl Measurer<'_> {
    fn measure(
        &mut self,
        pcr: u32,
        ty: EventType,
        data: &[u8],
        digested: &[u8],
    ) -> Result<(), DevNodeError> {
        let digests: BTreeMap<HashAlg, Vec<u8>> = self
            .log
            .measure(pcr, ty, data, digested)
            .map_err(|e| DevNodeError::Log(e.to_string()))?;
        self.tpm.pcr_extend(pcr, &digests)?;
        self.events += 1;
        Ok(())
    }

    /// Events whose digested data is the event data itself (text, variables).
    fn measure_data(&mut self, pcr: u32, ty: EventType, data: &[u8]) -> Result<(), DevNodeError> {
        self.measure(pcr, ty, data, data)
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, DevNodeError> {
    std::fs::read(path).map_err(io_err(path))
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16()
        .chain(std::iter::once(0))
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// Boots `tpm` from `layout`: the measured chain of a UEFI machine with Secure Boot,
/// shim, GRUB and Linux, followed by the kernel's IMA measurements of the container
/// runtime. The TPM must be fresh (PCR 0 zero), as after a power-on.
pub fn boot(layout: &NodeLayout, tpm: &mut dyn TpmDevice) -> Result<BootSummary, DevNodeError> {
    let banks = tpm.banks()?;
    let pcr0 = tpm.pcr_read(&[(HashAlg::Sha256, vec![0])])?;
    if pcr0
        .get(HashAlg::Sha256, 0)
        .is_some_and(|d| d.0.iter().any(|b| *b != 0))
    {
        return Err(DevNodeError::AlreadyBooted);
    }
    let log = EventLogBuilder::new(&banks).map_err(|e| DevNodeError::Log(e.to_string()))?;
    let mut m = Measurer {
        log,
        tpm,
        events: 0,
    };
    let global = efi_global_variable_guid();
    let security_db = efi_image_security_database_guid();

    // PCR 0: the static root of trust and the platform firmware.
    m.measure_data(0, EventType::SCrtmVersion, &utf16("ironroot devfw 1.0"))?;
    for f in ["OVMF_CODE.fd", "microcode.bin"] {
        let blob = read(&layout.firmware_dir().join(f))?;
        let ty = if f.starts_with("microcode") {
            EventType::CpuMicrocode
        } else {
            EventType::EfiPlatformFirmwareBlob2
        };
        let mut data = vec![u8::try_from(f.len()).unwrap_or(u8::MAX)];
        data.extend_from_slice(f.as_bytes());
        data.extend_from_slice(&0u64.to_le_bytes());
        data.extend_from_slice(&(blob.len() as u64).to_le_bytes());
        m.measure(0, ty, &data, &blob)?;
    }
    // PCR 1: boot configuration.
    m.measure_data(
        1,
        EventType::EfiVariableBoot,
        &efi_variable_data(global, "BootOrder", &[0, 0]),
    )?;
    m.measure_data(
        1,
        EventType::EfiVariableBoot,
        &efi_variable_data(global, "Boot0000", &utf16("ironroot\\shimx64.efi")),
    )?;
    // PCR 7: the Secure Boot policy.
    m.measure_data(
        7,
        EventType::EfiVariableDriverConfig,
        &efi_variable_data(global, "SecureBoot", &[1]),
    )?;
    for (guid, name) in [
        (global, "PK"),
        (global, "KEK"),
        (security_db, "db"),
        (security_db, "dbx"),
    ] {
        let value = crate::layout_blob(name);
        m.measure_data(
            7,
            EventType::EfiVariableDriverConfig,
            &efi_variable_data(guid, name, &value),
        )?;
    }
    // Separators close the pre-OS phase of PCRs 0-7.
    for pcr in 0..=7 {
        m.measure_data(pcr, EventType::Separator, &[0, 0, 0, 0])?;
    }
    // PCR 4: the boot applications, each measured as the image the firmware loads.
    m.measure_data(
        4,
        EventType::EfiAction,
        b"Calling EFI Application from Boot Option",
    )?;
    for f in ["shimx64.efi", "grubx64.efi", "vmlinuz"] {
        let image = read(&layout.boot_dir().join(f))?;
        m.measure(
            4,
            EventType::EfiBootServicesApplication,
            &efi_image_load_event(&format!("\\EFI\\ironroot\\{f}")),
            &image,
        )?;
    }
    // PCR 7 gains the authority that verified shim (db entry).
    m.measure_data(
        7,
        EventType::EfiVariableAuthority,
        &efi_variable_data(security_db, "db", &crate::layout_blob("db-cert")),
    )?;
    // PCR 8 and 9: GRUB measures the command line, the kernel and the initrd (EV_IPL).
    let cmdline = read(&layout.boot_dir().join("cmdline"))?;
    let mut text = b"kernel_cmdline: ".to_vec();
    text.extend_from_slice(&cmdline);
    m.measure(8, EventType::Ipl, &text, &cmdline)?;
    for f in ["vmlinuz", "initrd.img"] {
        let bytes = read(&layout.boot_dir().join(f))?;
        m.measure(9, EventType::Ipl, format!("/boot/{f}").as_bytes(), &bytes)?;
    }
    // PCR 5: ExitBootServices.
    m.measure_data(5, EventType::EfiAction, b"Exit Boot Services Invocation")?;
    m.measure_data(
        5,
        EventType::EfiAction,
        b"Exit Boot Services Returned with Success",
    )?;

    let log_bytes = m.log.to_bytes();
    let events = m.events;
    let path = layout.event_log_path();
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    std::fs::write(&path, &log_bytes).map_err(io_err(&path))?;

    // The kernel takes over: IMA's boot_aggregate, then the runtime's binaries. A boot
    // starts a new measurement list, as the kernel's lives only in memory.
    let ima_path = layout.ima_log_path();
    match std::fs::remove_file(&ima_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_err(&ima_path)(e)),
        _ => {}
    }
    let mut ima = ImaEmulator::start(layout.clone(), m.tpm)?;
    let ima_entries = ima.measure_changes(m.tpm)? + 1;
    tracing::info!(events, ima_entries, "development node booted");
    Ok(BootSummary {
        events,
        ima_entries,
        banks,
    })
}
