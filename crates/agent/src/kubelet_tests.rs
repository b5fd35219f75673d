#![allow(clippy::unwrap_used)]
use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kubelet")
        .join(name)
}

fn limit(name: &str) -> Option<i64> {
    read_kubelet_config(&fixture(name))
        .unwrap()
        .unwrap()
        .pod_pids_limit
}

#[test]
fn kubeadms_config_with_a_pid_limit_reads_that_limit() {
    assert_eq!(limit("kubeadm-pids-4096.yaml"), Some(4096));
}

#[test]
fn kubeadms_config_without_a_pid_limit_reads_the_kubelets_default() {
    assert_eq!(limit("kubeadm-default.yaml"), Some(-1));
}

#[test]
fn an_explicit_unlimited_pid_limit_reads_minus_one() {
    assert_eq!(limit("kubeadm-pids-unlimited.yaml"), Some(-1));
}

#[test]
fn no_file_is_no_kubelet_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(read_kubelet_config(&dir.path().join("config.yaml"))
        .unwrap()
        .is_none());
}

#[test]
fn kind_and_api_version_are_required_as_the_kubelet_requires_them() {
    let proxy = b"apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";
    assert!(matches!(
        parse_kubelet_config(proxy),
        Err(KubeletConfigError::Kind(k)) if k == "KubeProxyConfiguration"
    ));
    let alpha = b"apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n";
    assert!(matches!(
        parse_kubelet_config(alpha),
        Err(KubeletConfigError::ApiVersion(v)) if v == "kubelet.config.k8s.io/v1alpha1"
    ));
    let kind = b"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: Pod\npodPidsLimit: 5\n";
    assert!(matches!(
        parse_kubelet_config(kind),
        Err(KubeletConfigError::Kind(k)) if k == "Pod"
    ));
    for missing in [
        &b"podPidsLimit: 512\n"[..],
        b"kind: KubeletConfiguration\npodPidsLimit: 512\n",
        b"",
        b"# an empty file, as a FileOrCreate hostPath mount leaves it\n",
    ] {
        assert!(
            parse_kubelet_config(missing).is_err(),
            "{:?}",
            String::from_utf8_lossy(missing)
        );
    }
}

#[test]
fn garbage_is_refused_with_a_message() {
    for bad in [
        &b"podPidsLimit: many\n"[..],
        b"podPidsLimit: [1, 2]\n",
        b"{ not: yaml: at all",
        b"- a list\n- not a mapping\n",
        b"\xff\xfe\x00binary",
    ] {
        let e = parse_kubelet_config(bad).unwrap_err();
        assert!(
            matches!(e, KubeletConfigError::Syntax(_)),
            "{:?}: {e}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn an_alias_bomb_is_refused_by_the_budget() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        let prev = if p == 0 {
            "a".to_string()
        } else {
            format!("a{p}")
        };
        bomb.push_str(&format!(
            "a{i}: &a{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    bomb.push_str("podPidsLimit: 1\n");
    assert!(parse_kubelet_config(bomb.as_bytes()).is_err());
}

#[test]
fn a_file_over_the_limit_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    let mut text = std::fs::read_to_string(fixture("kubeadm-pids-4096.yaml")).unwrap();
    while (text.len() as u64) <= MAX_KUBELET_CONFIG {
        text.push_str("# padding padding padding padding padding padding padding\n");
    }
    std::fs::write(&path, &text).unwrap();
    let e = read_kubelet_config(&path).unwrap_err();
    assert!(matches!(e, KubeletConfigError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("65536"), "{e}");
    // At the limit exactly, it is read.
    std::fs::write(&path, &text.as_bytes()[..MAX_KUBELET_CONFIG as usize]).unwrap();
    assert!(read_kubelet_config(&path).is_ok());
}

#[test]
fn the_source_sends_nothing_for_a_bad_file_and_recovers_when_it_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    let source = KubeletSource::new(Some(path.clone()));
    assert_eq!(source.facts(), None, "no file");
    std::fs::write(&path, "podPidsLimit: lots\n").unwrap();
    assert_eq!(source.facts(), None, "garbage");
    assert_eq!(source.facts(), None, "still garbage (logged once)");
    assert!(source.last_error.lock().unwrap().is_some());
    std::fs::copy(fixture("kubeadm-pids-4096.yaml"), &path).unwrap();
    assert_eq!(
        source.facts(),
        Some(KubeletFacts {
            pod_pids_limit: Some(4096)
        })
    );
    assert!(source.last_error.lock().unwrap().is_none());
    assert_eq!(KubeletSource::new(None).facts(), None, "not configured");
}
