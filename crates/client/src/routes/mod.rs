//! One method per route of the service, with the request and response types of
//! `ironroot-api`: [`agent`] for what an enrolled node (or one enrolling) calls, [`admin`]
//! for what the administrator token opens. Path parameters are percent-encoded here, so
//! a name chosen by a user or a node cannot change which route is called.

pub mod admin;
pub mod agent;

/// `s` as one URL path segment (or query value): everything but unreserved characters
/// percent-encoded, `/` included.
pub fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_path_segments() {
        assert_eq!(path_segment("payments-eu_1.x~"), "payments-eu_1.x~");
        assert_eq!(path_segment("team/app key"), "team%2Fapp%20key");
        assert_eq!(path_segment("../hosts?x=1#"), "..%2Fhosts%3Fx%3D1%23");
    }
}
