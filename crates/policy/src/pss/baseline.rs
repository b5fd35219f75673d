//! The baseline checks of the Pod Security Standards (`policy/check_*.go` upstream).

use crate::containers::{self, ContainerView};
use crate::verdict::Violation;
use k8s_openapi::api::core::v1::{PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

const CAPABILITIES_ALLOWED: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The safe sysctls and the minor version that admitted each.
const SYSCTLS_ALLOWED: [(&str, u32); 14] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

fn push(out: &mut Vec<Violation>, c: Option<&ContainerView>, field: String, message: String) {
    out.push(Violation::new(c.map(|c| c.name), field, message));
}

pub(super) fn app_armor(meta: &ObjectMeta, spec: &PodSpec, out: &mut Vec<Violation>) {
    let allowed = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.app_armor_profile.as_ref())
    {
        if !allowed(&p.type_) {
            let m = format!("pod must not set AppArmor profile type to {:?}", p.type_);
            push(
                out,
                None,
                "spec.securityContext.appArmorProfile.type".into(),
                m,
            );
        }
    }
    for c in containers::all(spec) {
        if let Some(p) = c
            .security_context
            .and_then(|s| s.app_armor_profile.as_ref())
        {
            if !allowed(&p.type_) {
                let m = format!(
                    "container {} must not set AppArmor profile type to {:?}",
                    c.name, p.type_
                );
                push(
                    out,
                    Some(&c),
                    c.field("securityContext.appArmorProfile.type"),
                    m,
                );
            }
        }
    }
    for (k, v) in meta.annotations.iter().flatten() {
        let ok = v.is_empty() || v == "runtime/default" || v.starts_with("localhost/");
        if k.starts_with(APPARMOR_ANNOTATION_PREFIX) && !ok {
            let m = format!("annotation {k}={v:?} must be runtime/default or localhost/*");
            push(out, None, format!("metadata.annotations[{k}]"), m);
        }
    }
}

pub(super) fn capabilities(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        let add = c
            .security_context
            .and_then(|s| s.capabilities.as_ref())
            .and_then(|c| c.add.as_ref());
        let bad: Vec<&str> = add
            .into_iter()
            .flatten()
            .map(String::as_str)
            .filter(|a| !CAPABILITIES_ALLOWED.contains(a))
            .collect();
        if !bad.is_empty() {
            let m = format!("container {} must not add capabilities {bad:?}", c.name);
            push(
                out,
                Some(&c),
                c.field("securityContext.capabilities.add"),
                m,
            );
        }
    }
}

pub(super) fn host_namespaces(spec: &PodSpec, out: &mut Vec<Violation>) {
    for (set, name) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if set == Some(true) {
            push(
                out,
                None,
                format!("spec.{name}"),
                format!("pod must not set {name}=true"),
            );
        }
    }
}

pub(super) fn host_path_volumes(spec: &PodSpec, out: &mut Vec<Violation>) {
    for v in spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.host_path.is_some())
    {
        let m = format!("volume {} must not be a hostPath volume", v.name);
        push(out, None, format!("spec.volumes[{}].hostPath", v.name), m);
    }
}

pub(super) fn host_ports(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        let bad: Vec<i32> = c
            .ports
            .iter()
            .filter_map(|p| p.host_port)
            .filter(|&p| p != 0)
            .collect();
        if !bad.is_empty() {
            let m = format!("container {} must not use hostPort {bad:?}", c.name);
            push(out, Some(&c), c.field("ports[*].hostPort"), m);
        }
    }
}

fn probe_hosts(p: &Probe) -> impl Iterator<Item = &String> {
    let http = p.http_get.as_ref().and_then(|h| h.host.as_ref());
    let tcp = p.tcp_socket.as_ref().and_then(|t| t.host.as_ref());
    http.into_iter().chain(tcp)
}

pub(super) fn host_probes_and_lifecycle(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        let mut hosts: Vec<&String> = c
            .probes
            .iter()
            .flatten()
            .flat_map(|p| probe_hosts(p))
            .collect();
        if let Some(l) = c.lifecycle {
            for h in [l.post_start.as_ref(), l.pre_stop.as_ref()]
                .into_iter()
                .flatten()
            {
                hosts.extend(h.http_get.as_ref().and_then(|g| g.host.as_ref()));
                hosts.extend(h.tcp_socket.as_ref().and_then(|t| t.host.as_ref()));
            }
        }
        hosts.retain(|h| !h.is_empty());
        if !hosts.is_empty() {
            let m = format!(
                "container {} must not set host {hosts:?} in probes or lifecycle handlers",
                c.name
            );
            push(
                out,
                Some(&c),
                c.field("livenessProbe|readinessProbe|startupProbe|lifecycle.*.host"),
                m,
            );
        }
    }
}

pub(super) fn privileged(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        if c.security_context.and_then(|s| s.privileged) == Some(true) {
            let m = format!(
                "container {} must not set securityContext.privileged=true",
                c.name
            );
            push(out, Some(&c), c.field("securityContext.privileged"), m);
        }
    }
}

pub(crate) fn proc_mount(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        if let Some(p) = c.security_context.and_then(|s| s.proc_mount.as_ref()) {
            if p != "Default" {
                let m = format!(
                    "container {} must not set securityContext.procMount to {p:?}",
                    c.name
                );
                push(out, Some(&c), c.field("securityContext.procMount"), m);
            }
        }
    }
}

pub(super) fn se_linux_options(spec: &PodSpec, v: u32, out: &mut Vec<Violation>) {
    let type_ok = |t: &str| {
        ["", "container_t", "container_init_t", "container_kvm_t"].contains(&t)
            || (v >= 31 && t == "container_engine_t")
    };
    let bad = |o: &k8s_openapi::api::core::v1::SELinuxOptions| {
        !type_ok(o.type_.as_deref().unwrap_or_default())
            || o.user.as_deref().is_some_and(|u| !u.is_empty())
            || o.role.as_deref().is_some_and(|r| !r.is_empty())
    };
    let msg = "must not set a seLinuxOptions type outside container_t, container_init_t, \
               container_kvm_t, container_engine_t (v1.31+), nor a user or role";
    if spec
        .security_context
        .as_ref()
        .and_then(|s| s.se_linux_options.as_ref())
        .is_some_and(bad)
    {
        push(
            out,
            None,
            "spec.securityContext.seLinuxOptions".into(),
            format!("pod {msg}"),
        );
    }
    for c in containers::all(spec) {
        if c.security_context
            .and_then(|s| s.se_linux_options.as_ref())
            .is_some_and(bad)
        {
            let m = format!("container {} {msg}", c.name);
            push(out, Some(&c), c.field("securityContext.seLinuxOptions"), m);
        }
    }
}

/// Before v1.19 seccomp was set by annotations.
pub(super) fn seccomp_annotations(meta: &ObjectMeta, spec: &PodSpec, out: &mut Vec<Violation>) {
    let ok =
        |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
    let annotations = meta.annotations.as_ref();
    let get = |k: &str| annotations.and_then(|a| a.get(k));
    let mut keys: Vec<String> = vec![SECCOMP_POD_ANNOTATION.to_owned()];
    keys.extend(
        containers::all(spec).map(|c| format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name)),
    );
    for k in keys {
        if let Some(v) = get(&k).filter(|v| !ok(v)) {
            let m = format!(
                "annotation {k}={v:?} must be runtime/default, docker/default or localhost/*"
            );
            push(out, None, format!("metadata.annotations[{k}]"), m);
        }
    }
}

pub(crate) fn seccomp_type_ok(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

pub(super) fn seccomp_fields(spec: &PodSpec, out: &mut Vec<Violation>) {
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        if !seccomp_type_ok(&p.type_) {
            let m = format!(
                "pod must not set securityContext.seccompProfile.type to {:?}",
                p.type_
            );
            push(
                out,
                None,
                "spec.securityContext.seccompProfile.type".into(),
                m,
            );
        }
    }
    for c in containers::all(spec) {
        if let Some(p) = c.security_context.and_then(|s| s.seccomp_profile.as_ref()) {
            if !seccomp_type_ok(&p.type_) {
                let m = format!(
                    "container {} must not set securityContext.seccompProfile.type to {:?}",
                    c.name, p.type_
                );
                push(
                    out,
                    Some(&c),
                    c.field("securityContext.seccompProfile.type"),
                    m,
                );
            }
        }
    }
}

pub(super) fn sysctls(spec: &PodSpec, v: u32, out: &mut Vec<Violation>) {
    let allowed = |n: &str| {
        SYSCTLS_ALLOWED
            .iter()
            .any(|(a, since)| *a == n && *since <= v)
    };
    let sysctls = spec
        .security_context
        .as_ref()
        .and_then(|s| s.sysctls.as_ref());
    let bad: Vec<&str> = sysctls
        .into_iter()
        .flatten()
        .map(|s| s.name.as_str())
        .filter(|n| !allowed(n))
        .collect();
    if !bad.is_empty() {
        let m = format!("pod must not set sysctls {bad:?} (not in the safe set of v1.{v})");
        push(out, None, "spec.securityContext.sysctls".into(), m);
    }
}

pub(super) fn windows_host_process(spec: &PodSpec, out: &mut Vec<Violation>) {
    let pod = spec
        .security_context
        .as_ref()
        .and_then(|s| s.windows_options.as_ref());
    if pod.and_then(|w| w.host_process) == Some(true) {
        let m = "pod must not set securityContext.windowsOptions.hostProcess=true".to_owned();
        push(
            out,
            None,
            "spec.securityContext.windowsOptions.hostProcess".into(),
            m,
        );
    }
    for c in containers::all(spec) {
        let w = c.security_context.and_then(|s| s.windows_options.as_ref());
        if w.and_then(|w| w.host_process) == Some(true) {
            let m = format!(
                "container {} must not set securityContext.windowsOptions.hostProcess=true",
                c.name
            );
            push(
                out,
                Some(&c),
                c.field("securityContext.windowsOptions.hostProcess"),
                m,
            );
        }
    }
}
