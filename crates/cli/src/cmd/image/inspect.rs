//! `ironroot image inspect`'s table: the library's report of each layer's encryption.

use super::Table;
use ironroot_imagecrypt::inspect::{ImageReport, Recipient};

fn describe(r: &Recipient) -> String {
    match r {
        Recipient::Jwe { count } => format!("jwe x{count}"),
        Recipient::Provider {
            name,
            key_name: Some(k),
            key_id: Some(id),
        } => format!("provider:{name} key {k} ({id})"),
        Recipient::Provider { name, .. } => format!("provider:{name}"),
        Recipient::Other { name } => name.clone(),
    }
}

pub fn render(r: &ImageReport) -> String {
    let mut t = Table::new(&[
        "#",
        "MEDIA TYPE",
        "SIZE",
        "ENCRYPTED",
        "CIPHER",
        "RECIPIENTS",
    ]);
    for (i, l) in r.layers.iter().enumerate() {
        let recipients: Vec<String> = l.recipients.iter().map(describe).collect();
        let encrypted = match (&l.problem, l.encrypted) {
            (Some(p), _) => format!("BROKEN: {p}"),
            (None, true) => "yes".into(),
            (None, false) => "NO".into(),
        };
        t.row(vec![
            (i + 1).to_string(),
            l.media_type.clone(),
            l.size.to_string(),
            encrypted,
            l.cipher.clone().unwrap_or_else(|| "-".into()),
            if recipients.is_empty() {
                "-".into()
            } else {
                recipients.join(", ")
            },
        ]);
    }
    // The table escapes its cells; the tag and digest come from the layout too.
    format!(
        "manifest {}{}\n{}",
        crate::cmd::printable(&r.manifest),
        r.tag
            .as_deref()
            .map(|t| format!(" (tag {})", crate::cmd::printable(t)))
            .unwrap_or_default(),
        t.render()
    )
}
