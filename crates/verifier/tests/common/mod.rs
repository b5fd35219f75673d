//! A golden host built in code: a UEFI boot log written with the evidence crate's builder,
//! an IMA list, and a "quote" that is exactly what both replay to, as a real TPM would hold.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ironroot_crypto::{digest, HashAlg};
use ironroot_evidence::{
    efi_global_variable_guid, efi_image_load_event, efi_variable_data, EventLog, EventLogBuilder,
    EventType, ImaEntry, ImaLog,
};
use ironroot_tpm_wire::{Digest, PcrValues};
use ironroot_verifier::{
    Evidence, Flavor, FlavorGroup, FlavorMeta, FlavorPart, HostInfo, Rule, TrustReport,
};
use uuid::Uuid;

pub const HOST: &str = "host-a";
pub const BANKS: [HashAlg; 2] = [HashAlg::Sha1, HashAlg::Sha256];
pub const NOW: u64 = 1_700_000_000;
pub const RUNC: &str = "/usr/sbin/runc";

pub fn boot_log(cmdline: &str) -> EventLog {
    let mut b = EventLogBuilder::new(&BANKS).unwrap();
    b.startup_locality(0).unwrap();
    b.measure(0, EventType::SCrtmVersion, b"CRTM 1.0\0", b"crtm")
        .unwrap();
    b.measure(
        0,
        EventType::EfiPlatformFirmwareBlob2,
        b"\0",
        b"firmware v1",
    )
    .unwrap();
    b.measure(
        1,
        EventType::EfiVariableBoot,
        &efi_variable_data(efi_global_variable_guid(), "BootOrder", &[0, 0]),
        b"bootorder",
    )
    .unwrap();
    let sb = efi_variable_data(efi_global_variable_guid(), "SecureBoot", &[1]);
    b.measure(7, EventType::EfiVariableDriverConfig, &sb, &sb)
        .unwrap();
    let pk = efi_variable_data(efi_global_variable_guid(), "PK", b"pk-cert");
    b.measure(7, EventType::EfiVariableDriverConfig, &pk, &pk)
        .unwrap();
    for pcr in 0..=7 {
        b.measure(pcr, EventType::Separator, &[0; 4], &[0; 4])
            .unwrap();
    }
    b.measure(
        4,
        EventType::EfiBootServicesApplication,
        &efi_image_load_event("\\EFI\\BOOT\\BOOTX64.EFI"),
        b"shim 15.8",
    )
    .unwrap();
    b.measure(
        4,
        EventType::EfiBootServicesApplication,
        &efi_image_load_event("\\EFI\\fedora\\grubx64.efi"),
        b"grub 2.12",
    )
    .unwrap();
    b.measure(
        4,
        EventType::EfiBootServicesApplication,
        &efi_image_load_event("\\vmlinuz-6.8"),
        b"kernel 6.8",
    )
    .unwrap();
    b.measure(
        8,
        EventType::Ipl,
        format!("kernel_cmdline: {cmdline}\0").as_bytes(),
        cmdline.as_bytes(),
    )
    .unwrap();
    b.measure(9, EventType::Ipl, b"/boot/vmlinuz-6.8\0", b"kernel 6.8")
        .unwrap();
    b.measure(
        9,
        EventType::Ipl,
        b"/boot/initramfs-6.8.img\0",
        b"initrd 6.8",
    )
    .unwrap();
    EventLog::parse(&b.to_bytes()).unwrap()
}

pub fn ima_entry(path: &str, content: &[u8]) -> ImaEntry {
    let mut e = ImaEntry {
        pcr: 10,
        template: "ima-ng".into(),
        file_digest_alg: HashAlg::Sha256,
        file_digest: Digest(digest(HashAlg::Sha256, content)),
        path: path.into(),
        signature: None,
        template_hash_sha1: Digest(vec![1; 20]),
    };
    e.template_hash_sha1 = Digest(e.template_hash(HashAlg::Sha1));
    e
}

pub fn ima_list(runc: &[u8]) -> ImaLog {
    ImaLog {
        entries: vec![
            ima_entry("boot_aggregate", b"aggregate"),
            ima_entry("/usr/bin/containerd", b"containerd 1.7"),
            ima_entry(RUNC, runc),
            ima_entry("/usr/bin/bash", b"bash 5.2"),
            ima_entry("/usr/bin/containerd", b"containerd 1.7"),
        ],
    }
}

/// What the TPM would quote after this boot: the replay of both logs.
pub fn quote_of(log: &EventLog, ima: &ImaLog) -> PcrValues {
    let mut q = log.replay();
    let ima_pcrs = ima.replay(&BANKS);
    for (bank, pcrs) in ima_pcrs.0 {
        for (i, v) in pcrs {
            q.set(bank, i, v.0);
        }
    }
    q
}

pub fn evidence_with(log: EventLog, ima: ImaLog) -> Evidence {
    Evidence {
        quoted: quote_of(&log, &ima),
        event_log: Some(log),
        ima: Some(ima),
        host: HostInfo {
            host_id: HOST.into(),
            hostname: "a.example".into(),
            reset_count: 3,
            restart_count: 0,
            ..Default::default()
        },
    }
}

pub fn golden() -> Evidence {
    evidence_with(boot_log("root=/dev/sda1 ro"), ima_list(b"runc 1.1.12"))
}

pub fn flavor(part: FlavorPart, created: u64, rules: Vec<Rule>) -> Flavor {
    Flavor {
        id: Uuid::new_v4(),
        meta: FlavorMeta {
            label: format!("{part}-{created}"),
            part,
            vendor: String::new(),
            description: String::new(),
            created,
            host_id: part.is_host_bound().then(|| HOST.to_string()),
        },
        rules,
    }
}

/// A rule that passes (or not) against `golden()`: PCR 0 in sha256.
pub fn pcr0_rule(ev: &Evidence, pass: bool) -> Rule {
    let mut value = ev.quoted.get(HashAlg::Sha256, 0).unwrap().clone();
    if !pass {
        value.0[0] ^= 1;
    }
    Rule::PcrMatches {
        bank: HashAlg::Sha256,
        index: 0,
        value,
    }
}

/// Evaluates flavors under the default group.
pub fn check(ev: &Evidence, flavors: &[Flavor]) -> TrustReport {
    ironroot_verifier::verify(
        ev,
        &FlavorGroup::default_group("automatic"),
        flavors,
        NOW,
        3600,
    )
}

/// Evaluates one rule as the only rule of the only (PLATFORM) flavor.
pub fn check_rule(ev: &Evidence, rule: Rule) -> TrustReport {
    let platform = flavor(FlavorPart::Platform, 1, vec![rule]);
    let os = flavor(FlavorPart::Os, 1, vec![pcr0_rule(ev, true)]);
    check(ev, &[platform, os])
}

pub fn fault_names(r: &TrustReport) -> Vec<ironroot_verifier::FaultName> {
    r.failed_faults().map(|(_, f)| f.name).collect()
}
