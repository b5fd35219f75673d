//! approved-registries in CEL: whether `c.image` comes from one registry prefix
//! (`host[:port][/path]`, as `RegistryPrefix` prints it), with Docker's normalization
//! spelled out as regular expressions (RE2, CEL's `matches`): a reference whose first
//! component has no `.` or `:` and is not `localhost` is on `docker.io`, and one with no
//! `/` at all is `docker.io/library/NAME`. Paths match on whole components, as the
//! engine's `covers` does (`ghcr.io/acme` never covers `ghcr.io/acme-evil`).
//!
//! Prefixes hold only host and path characters (checked when the policy was loaded), so
//! nothing here can inject CEL; dots are written `[.]` so none is a wildcard.

/// A CEL expression over `c.image` that is true when the image comes from `prefix`.
pub fn covers(prefix: &str) -> String {
    let (host, path) = match prefix.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (prefix, None),
    };
    let lit = |s: &str| s.replace('.', "[.]");
    let docker = host == "docker.io";
    let host_re = if docker {
        "(docker[.]io|index[.]docker[.]io)".to_owned()
    } else {
        format!("(?i:{})", lit(host))
    };
    let m = |re: String| format!("c.image.matches('{re}')");
    let mut any = Vec::new();
    match path {
        None => any.push(m(format!("^{host_re}/"))),
        Some(p) => any.push(m(format!("^{host_re}/{}([/:@]|$)", lit(p)))),
    }
    if docker {
        any.extend(docker_implicit(path, &host_re, &lit));
    }
    format!("({})", any.join(" || "))
}

/// The forms of a `docker.io` reference that do not spell the host.
fn docker_implicit(path: Option<&str>, host_re: &str, lit: &dyn Fn(&str) -> String) -> Vec<String> {
    let m = |re: String| format!("c.image.matches('{re}')");
    let implicit_host = "!c.image.startsWith('localhost/')";
    let mut any = Vec::new();
    match path {
        None => {
            any.push(m("^[^/]+$".to_owned()));
            any.push(format!("(c.image.matches('^[^/.:]+/') && {implicit_host})"));
        }
        Some(p) => {
            let first = p.split('/').next().unwrap_or_default();
            // `NAMESPACE/...` with no host: only when the namespace cannot read as a host.
            if !first.contains('.') && !first.contains(':') && first != "localhost" {
                let tail = if p.contains('/') { "([/:@]|$)" } else { "/" };
                any.push(m(format!("^{}{tail}", lit(p))));
            }
            // `NAME` alone, and `docker.io/NAME`: both are `library/NAME`.
            if p == "library" {
                any.push(m("^[^/]+$".to_owned()));
                any.push(m(format!("^{host_re}/[^/]+$")));
            } else if let Some(name) = p.strip_prefix("library/").filter(|n| !n.contains('/')) {
                any.push(m(format!("^{}([:@][^/]*)?$", lit(name))));
                any.push(m(format!("^{host_re}/{}([:@][^/]*)?$", lit(name))));
            }
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn prefixes_become_anchored_whole_component_expressions() {
        assert_eq!(
            covers("registry.local:5000"),
            "(c.image.matches('^(?i:registry[.]local:5000)/'))"
        );
        assert_eq!(
            covers("ghcr.io/acme"),
            "(c.image.matches('^(?i:ghcr[.]io)/acme([/:@]|$)'))"
        );
        let lib = covers("docker.io/library");
        assert!(lib.contains("c.image.matches('^[^/]+$')"), "{lib}");
        assert!(lib.contains("c.image.matches('^library/')"), "{lib}");
        let hub = covers("docker.io");
        assert!(hub.contains("!c.image.startsWith('localhost/')"), "{hub}");
    }
}
