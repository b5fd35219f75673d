//! The service's server-sent event stream as the controller and `ironroot host watch` read
//! it: untrusted bytes from the network, cut into chunks anywhere, decoded within the
//! frame limit.
#![no_main]

use ironroot_client::SseDecoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses where the chunks are cut, so the decoder sees every split.
    let Some((&cut, body)) = data.split_first() else { return };
    let step = usize::from(cut).max(1);
    let mut d = SseDecoder::with_limit(4096);
    let mut events = 0usize;
    for chunk in body.chunks(step) {
        if d.push(chunk).is_err() {
            return; // a frame over the limit: refused, as it should be
        }
        while let Ok(Some(e)) = d.next_event() {
            assert!(e.data.len() <= 4096);
            events += 1;
        }
    }
    assert!(events <= body.len());
});
