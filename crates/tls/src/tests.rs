#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::{ClientConnection, ServerConnection};
use rustls_pki_types::ServerName;

struct Pki {
    ca_pem: String,
    server: (String, String),
    client: (String, String),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = params.self_signed(&ca_key).unwrap();
    let leaf = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca.pem(),
        server: leaf("localhost"),
        client: leaf("node-1"),
    }
}

/// Runs a handshake in memory; returns the client certificates the server saw.
fn handshake(server: Arc<ServerConfig>, client: ClientConfig) -> Result<usize, rustls::Error> {
    let name = ServerName::try_from("localhost").unwrap();
    let mut c = ClientConnection::new(Arc::new(client), name).unwrap();
    let mut s = ServerConnection::new(server).unwrap();
    for _ in 0..10 {
        let mut buf = Vec::new();
        while c.wants_write() {
            c.write_tls(&mut buf).unwrap();
        }
        s.read_tls(&mut buf.as_slice()).unwrap();
        s.process_new_packets()?;
        let mut buf = Vec::new();
        while s.wants_write() {
            s.write_tls(&mut buf).unwrap();
        }
        c.read_tls(&mut buf.as_slice()).unwrap();
        c.process_new_packets()?;
        if !c.is_handshaking() && !s.is_handshaking() {
            return Ok(s.peer_certificates().map_or(0, <[_]>::len));
        }
    }
    panic!("the handshake did not finish");
}

fn server(p: &Pki) -> Arc<ServerConfig> {
    let id = Identity::from_pem(p.server.0.as_bytes(), p.server.1.as_bytes()).unwrap();
    server_config(p.ca_pem.as_bytes(), id).unwrap()
}

#[test]
fn service_accepts_a_client_without_a_certificate_and_one_with_a_ca_issued_one() {
    let p = pki();
    let anon = service_client_config(p.ca_pem.as_bytes(), None).unwrap();
    assert_eq!(handshake(server(&p), anon).unwrap(), 0);
    let id = Identity::from_pem(p.client.0.as_bytes(), p.client.1.as_bytes()).unwrap();
    let agent = service_client_config(p.ca_pem.as_bytes(), Some(id)).unwrap();
    assert_eq!(handshake(server(&p), agent).unwrap(), 1);
}

#[test]
fn client_refuses_a_service_its_ca_did_not_issue() {
    let (p, other) = (pki(), pki());
    let client = service_client_config(other.ca_pem.as_bytes(), None).unwrap();
    assert!(handshake(server(&p), client).is_err());
}

#[test]
fn service_refuses_a_client_certificate_from_another_ca() {
    let (p, other) = (pki(), pki());
    let id = Identity::from_pem(other.client.0.as_bytes(), other.client.1.as_bytes()).unwrap();
    let client = service_client_config(p.ca_pem.as_bytes(), Some(id)).unwrap();
    assert!(handshake(server(&p), client).is_err());
}

#[test]
fn service_offers_h2_and_http1_and_clients_send_no_alpn() {
    let p = pki();
    assert_eq!(
        server(&p).alpn_protocols,
        [b"h2".to_vec(), b"http/1.1".to_vec()]
    );
    let c = service_client_config(p.ca_pem.as_bytes(), None).unwrap();
    assert!(c.alpn_protocols.is_empty());
}

#[test]
fn unreadable_pem_is_an_error_and_a_bundle_skips_it() {
    let garbage = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
    assert!(matches!(roots_from_pem(garbage), Err(TlsError::Pem(_))));
    assert!(Identity::from_pem(b"", b"").is_err());
    let p = pki();
    let bundle = [garbage.as_slice(), p.ca_pem.as_bytes()].concat();
    assert_eq!(roots_from_bundle(&bundle).len(), 1);
    assert_eq!(roots_from_pem(b"").unwrap().len(), 0);
}
