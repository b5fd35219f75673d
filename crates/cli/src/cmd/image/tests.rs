//! ironroot's key provider as the image library sees it, with a fake broker (Wrapper) and
//! a fake node agent (Unwrapper): a real packet goes through the annotation and back. The
//! image round trips are the library's tests; the real broker and agent are tested end to
//! end elsewhere, and skopeo interoperability in tests/image.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::keys::{AgentOpener, BrokerSealer, IronrootPackets};
use super::*;
use ironroot_api::B64;
use ironroot_imagecrypt::inspect::{ImageReport, LayerReport, Recipient};
use ironroot_imagecrypt::{LayerKeyOpener, LayerKeySealer, SealedKey, SealedKeyNames};
use ironroot_keyprovider::{BoxFuture, KeySpec, Packet, ProviderError, Unwrapper, Wrapper};

const KEY_ID: &str = "0b6f1c9e-6c1e-4a8e-9f4b-2d8e6c1f0a11";
const MASK: u8 = 0x5a;

/// "Seals" by XOR, so the test can tell the packet carries the options.
struct FakeBroker;
impl Wrapper for FakeBroker {
    fn wrap<'a>(
        &'a self,
        key: &'a KeySpec,
        optsdata: &'a [u8],
    ) -> BoxFuture<'a, Result<Packet, ProviderError>> {
        let mut ct: Vec<u8> = optsdata.iter().map(|b| b ^ MASK).collect();
        ct.extend_from_slice(&[0; 16]);
        let p = Packet {
            ironroot: 1,
            key_id: KEY_ID.into(),
            key_name: key.name.clone(),
            iv: B64(vec![7; 12]),
            ciphertext: B64(ct),
        };
        Box::pin(async move { Ok(p) })
    }
}

struct FakeAgent {
    refuse: bool,
}
impl Unwrapper for FakeAgent {
    fn unwrap<'a>(
        &'a self,
        packet: &'a Packet,
    ) -> BoxFuture<'a, Result<zeroize::Zeroizing<Vec<u8>>, ProviderError>> {
        let (ct, _) = packet.sealed();
        let out: Vec<u8> = ct.iter().map(|b| b ^ MASK).collect();
        let refuse = self.refuse;
        Box::pin(async move {
            if refuse {
                return Err(ProviderError::Refused("node not tagged region=EU".into()));
            }
            Ok(zeroize::Zeroizing::new(out))
        })
    }
}

fn sealer() -> BrokerSealer<FakeBroker> {
    let args = EncryptKeyArgs::parse(&["provider:ironroot:eu-app+tag:region=EU".into()]).unwrap();
    BrokerSealer {
        wrapper: FakeBroker,
        spec: args.provider.unwrap(),
    }
}

#[tokio::test]
async fn a_broker_packet_names_its_key_and_opens_on_the_node() {
    let options = br#"{"cipher":"AES_256_CTR_HMAC_SHA256"}"#;
    let sealed = sealer().seal(options).await.unwrap();
    assert_eq!(sealer().provider(), "ironroot");
    assert_eq!(
        IronrootPackets.sealed_key("ironroot", &sealed),
        Some(SealedKey {
            name: "eu-app".into(),
            id: KEY_ID.into()
        })
    );
    assert_eq!(IronrootPackets.sealed_key("other", &sealed), None);
    assert_eq!(IronrootPackets.sealed_key("ironroot", b"junk"), None);

    let agent = AgentOpener {
        unwrapper: FakeAgent { refuse: false },
    };
    assert_eq!(agent.open(&sealed).await.unwrap().as_slice(), options);
    let refusing = AgentOpener {
        unwrapper: FakeAgent { refuse: true },
    };
    let e = refusing.open(&sealed).await.unwrap_err();
    assert_eq!(e.to_string(), "node not tagged region=EU");
    let e = agent.open(b"not a packet").await.unwrap_err();
    assert!(e.to_string().contains("not an ironroot key packet"), "{e}");
}

#[test]
fn inspect_shows_the_broker_key_of_each_layer() {
    let layer = |encrypted, recipients, problem| LayerReport {
        digest: "sha256:ab".into(),
        media_type: "application/vnd.oci.image.layer.v1.tar+encrypted".into(),
        size: 10,
        encrypted,
        cipher: encrypted.then(|| "AES_256_CTR_HMAC_SHA256".into()),
        recipients,
        problem,
    };
    let report = ImageReport {
        manifest: "sha256:cd".into(),
        tag: Some("v1".into()),
        layers: vec![
            layer(
                true,
                vec![Recipient::Provider {
                    name: "ironroot".into(),
                    key_name: Some("eu-app".into()),
                    key_id: Some(KEY_ID.into()),
                }],
                None,
            ),
            layer(false, vec![], Some("no pubopts annotation".into())),
        ],
    };
    let table = inspect::render(&report);
    assert!(table.starts_with("manifest sha256:cd (tag v1)"), "{table}");
    assert!(
        table.contains("provider:ironroot key eu-app (0b6f1c9e"),
        "{table}"
    );
    assert!(table.contains("BROKEN: no pubopts annotation"), "{table}");
}
