//! What reaches a key provider from ocicrypt (requests, on stdin or in a gRPC message) and
//! what it reads from an image (ironroot's annotation packet, the key arguments).
#![no_main]

use ironroot_keyprovider::{KeySpec, Packet};
use ironroot_ocicrypt::keyprovider::{parse_unwrap_response, parse_wrap_response};
use ironroot_ocicrypt::KeyProviderRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = KeyProviderRequest::from_json(data);
    let _ = parse_wrap_response(data);
    let _ = parse_unwrap_response(data);
    if let Ok(p) = Packet::parse(data) {
        // A packet that parses has the shape opening relies on.
        let (ct, tag) = p.sealed();
        assert_eq!(tag.len(), 16);
        assert!(!ct.is_empty());
    }
    let _ = KeySpec::parse(data);
});
