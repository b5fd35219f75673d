//! The image configuration: who the container runs as, and whether it has a healthcheck.

use crate::accounts;
use crate::finding::{self as rule, Finding};
use crate::ImageConfig;
use ironroot_layers::Overlay;

pub(crate) fn check(files: &Overlay, config: &ImageConfig, out: &mut Vec<Finding>) {
    user(files, config, out);
    let disabled = |t: &Vec<String>| t.first().is_none_or(|c| c == "NONE");
    match &config.healthcheck {
        None => out.push(Finding::new(&rule::NO_HEALTHCHECK).evidence("no Healthcheck")),
        Some(test) if disabled(test) => {
            out.push(Finding::new(&rule::NO_HEALTHCHECK).evidence("Healthcheck disabled (NONE)"))
        }
        Some(_) => {}
    }
}

fn user(files: &Overlay, config: &ImageConfig, out: &mut Vec<Finding>) {
    let spec = config.user.as_deref().unwrap_or("").trim();
    // `user[:group]`: the group does not make a root user any less root.
    let name = spec.split(':').next().unwrap_or("");
    let root = |why: String| Finding::new(&rule::USER_ROOT).evidence(why);
    if name.is_empty() {
        out.push(root(format!("User {spec:?}: the runtime's default, root")));
        return;
    }
    if let Ok(uid) = name.parse::<u32>() {
        if uid == 0 {
            out.push(root(format!("User {spec:?}")));
        }
        return;
    }
    if name == "root" {
        out.push(root(format!("User {spec:?}")));
        return;
    }
    let passwd = files.get("etc/passwd");
    let found = passwd
        .and_then(|f| f.content.as_deref())
        .map(|bytes| accounts::parse(bytes, 7, Some(2)))
        .and_then(|file| file.accounts.into_iter().find(|a| a.name == name));
    match (found, passwd) {
        (Some(a), Some(f)) if a.uid == Some(0) => out.push(
            root(format!(
                "User {spec:?}, uid 0 in etc/passwd (line {})",
                a.line
            ))
            .at("etc/passwd", f.layer),
        ),
        (Some(_), _) => {}
        (None, _) => out.push(Finding::new(&rule::USER_UNKNOWN).evidence(format!("User {spec:?}"))),
    }
}
