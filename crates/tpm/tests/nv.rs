//! Owner-authorised NV indices on swtpm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestTpm;
use ironroot_tpm::TpmDevice;

#[test]
fn asset_tag_sized_index_round_trips_and_undefines() {
    let Some(t) = TestTpm::start("nv") else {
        return;
    };
    let mut tpm = t.open();
    let tag: Vec<u8> = (0..48).collect();
    tpm.nv_define(0x01C1_0110, 48).unwrap();
    tpm.nv_write(0x01C1_0110, &tag).unwrap();
    assert_eq!(tpm.nv_read(0x01C1_0110).unwrap(), tag);
    drop(tpm);
    assert_eq!(
        t.open().nv_read(0x01C1_0110).unwrap(),
        tag,
        "NV survives reopening"
    );

    let mut tpm = t.open();
    tpm.nv_undefine(0x01C1_0110).unwrap();
    assert!(tpm.nv_read(0x01C1_0110).is_err());
    // Defining again after undefine works (no stale ESAPI record).
    tpm.nv_define(0x01C1_0110, 48).unwrap();
    tpm.nv_undefine(0x01C1_0110).unwrap();
}

#[test]
fn index_larger_than_one_transfer_round_trips() {
    let Some(t) = TestTpm::start("nv-large") else {
        return;
    };
    let mut tpm = t.open();
    let data: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 251) as u8).collect();
    tpm.nv_define(0x01C1_0200, 1500).unwrap();
    tpm.nv_write(0x01C1_0200, &data).unwrap();
    assert_eq!(tpm.nv_read(0x01C1_0200).unwrap(), data);
    assert!(
        tpm.nv_define(0x0100_0000 - 1, 8).is_err(),
        "not an NV index handle"
    );
}
