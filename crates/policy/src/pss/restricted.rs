//! The restricted checks of the Pod Security Standards, added to the baseline checks they
//! do not override (`policy/check_*.go` upstream).

use super::baseline::{proc_mount, seccomp_type_ok};
use super::{user_namespaced, windows};
use crate::containers;
use crate::verdict::Violation;
use k8s_openapi::api::core::v1::{PodSpec, Volume};

/// A volume that names no source: the API server defaults it to `emptyDir` before
/// admission (`SetDefaults_Volume`), so it is judged as one. Every field is named so that
/// a source added to the API fails to compile here rather than pass unseen.
fn no_source(v: &Volume) -> bool {
    let Volume {
        name: _,
        aws_elastic_block_store,
        azure_disk,
        azure_file,
        cephfs,
        cinder,
        config_map,
        csi,
        downward_api,
        empty_dir,
        ephemeral,
        fc,
        flex_volume,
        flocker,
        gce_persistent_disk,
        git_repo,
        glusterfs,
        host_path,
        image,
        iscsi,
        nfs,
        persistent_volume_claim,
        photon_persistent_disk,
        portworx_volume,
        projected,
        quobyte,
        rbd,
        scale_io,
        secret,
        storageos,
        vsphere_volume,
    } = v;
    aws_elastic_block_store.is_none()
        && azure_disk.is_none()
        && azure_file.is_none()
        && cephfs.is_none()
        && cinder.is_none()
        && config_map.is_none()
        && csi.is_none()
        && downward_api.is_none()
        && empty_dir.is_none()
        && ephemeral.is_none()
        && fc.is_none()
        && flex_volume.is_none()
        && flocker.is_none()
        && gce_persistent_disk.is_none()
        && git_repo.is_none()
        && glusterfs.is_none()
        && host_path.is_none()
        && image.is_none()
        && iscsi.is_none()
        && nfs.is_none()
        && persistent_volume_claim.is_none()
        && photon_persistent_disk.is_none()
        && portworx_volume.is_none()
        && projected.is_none()
        && quobyte.is_none()
        && rbd.is_none()
        && scale_io.is_none()
        && secret.is_none()
        && storageos.is_none()
        && vsphere_volume.is_none()
}

/// Volume kinds the restricted level allows (`check_restrictedVolumes.go`).
fn allowed_volume(v: &Volume) -> bool {
    no_source(v)
        || v.config_map.is_some()
        || v.csi.is_some()
        || v.downward_api.is_some()
        || v.empty_dir.is_some()
        || v.ephemeral.is_some()
        || v.image.is_some()
        || v.persistent_volume_claim.is_some()
        || v.projected.is_some()
        || v.secret.is_some()
}

pub(super) fn all(spec: &PodSpec, v: u32, out: &mut Vec<Violation>) {
    let linux_only_skipped = v >= 25 && windows(spec);
    if v >= 8 && !linux_only_skipped {
        allow_privilege_escalation(spec, out);
    }
    if v >= 22 && !linux_only_skipped {
        capabilities(spec, out);
    }
    if v >= 35 {
        proc_mount(spec, out);
    }
    volumes(spec, out);
    let relaxed = v >= 35 && user_namespaced(spec);
    if !relaxed {
        run_as_non_root(spec, out);
        if v >= 23 {
            run_as_user(spec, out);
        }
    }
    if v >= 19 && !linux_only_skipped {
        seccomp(spec, out);
    }
}

fn allow_privilege_escalation(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        if c.security_context
            .and_then(|s| s.allow_privilege_escalation)
            != Some(false)
        {
            let m = format!(
                "container {} must set securityContext.allowPrivilegeEscalation=false",
                c.name
            );
            out.push(Violation::new(
                Some(c.name),
                c.field("securityContext.allowPrivilegeEscalation"),
                m,
            ));
        }
    }
}

fn capabilities(spec: &PodSpec, out: &mut Vec<Violation>) {
    for c in containers::all(spec) {
        let caps = c.security_context.and_then(|s| s.capabilities.as_ref());
        let drops_all = caps
            .and_then(|c| c.drop.as_ref())
            .is_some_and(|d| d.iter().any(|d| d == "ALL"));
        if !drops_all {
            let m = format!(
                "container {} must set securityContext.capabilities.drop=[\"ALL\"]",
                c.name
            );
            out.push(Violation::new(
                Some(c.name),
                c.field("securityContext.capabilities.drop"),
                m,
            ));
        }
        let add = caps.and_then(|c| c.add.as_ref()).into_iter().flatten();
        let bad: Vec<&String> = add.filter(|a| *a != "NET_BIND_SERVICE").collect();
        if !bad.is_empty() {
            let m = format!(
                "container {} must not add capabilities {bad:?} (only NET_BIND_SERVICE)",
                c.name
            );
            out.push(Violation::new(
                Some(c.name),
                c.field("securityContext.capabilities.add"),
                m,
            ));
        }
    }
}

fn volumes(spec: &PodSpec, out: &mut Vec<Violation>) {
    for vol in spec.volumes.iter().flatten().filter(|v| !allowed_volume(v)) {
        let m = format!(
            "volume {} must be one of configMap, csi, downwardAPI, emptyDir, ephemeral, image, \
             persistentVolumeClaim, projected, secret",
            vol.name
        );
        out.push(Violation::new(
            None,
            format!("spec.volumes[{}]", vol.name),
            m,
        ));
    }
}

fn run_as_non_root(spec: &PodSpec, out: &mut Vec<Violation>) {
    let pod = spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root);
    if pod == Some(false) {
        let m = "pod must not set securityContext.runAsNonRoot=false".to_owned();
        out.push(Violation::new(None, "spec.securityContext.runAsNonRoot", m));
    }
    for c in containers::all(spec) {
        let field = c.field("securityContext.runAsNonRoot");
        match c.security_context.and_then(|s| s.run_as_non_root) {
            Some(false) => {
                let m = format!(
                    "container {} must not set securityContext.runAsNonRoot=false",
                    c.name
                );
                out.push(Violation::new(Some(c.name), field, m));
            }
            None if pod != Some(true) => {
                let m = format!(
                    "pod or container {} must set securityContext.runAsNonRoot=true",
                    c.name
                );
                out.push(Violation::new(Some(c.name), field, m));
            }
            _ => {}
        }
    }
}

fn run_as_user(spec: &PodSpec, out: &mut Vec<Violation>) {
    if spec.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0) {
        let m = "pod must not set securityContext.runAsUser=0".to_owned();
        out.push(Violation::new(None, "spec.securityContext.runAsUser", m));
    }
    for c in containers::all(spec) {
        if c.security_context.and_then(|s| s.run_as_user) == Some(0) {
            let m = format!(
                "container {} must not set securityContext.runAsUser=0",
                c.name
            );
            out.push(Violation::new(
                Some(c.name),
                c.field("securityContext.runAsUser"),
                m,
            ));
        }
    }
}

fn seccomp(spec: &PodSpec, out: &mut Vec<Violation>) {
    let pod = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref());
    let pod_set = match pod {
        Some(p) if !seccomp_type_ok(&p.type_) => {
            let m = format!(
                "pod must not set securityContext.seccompProfile.type to {:?}",
                p.type_
            );
            out.push(Violation::new(
                None,
                "spec.securityContext.seccompProfile.type",
                m,
            ));
            false
        }
        Some(_) => true,
        None => false,
    };
    for c in containers::all(spec) {
        let field = c.field("securityContext.seccompProfile.type");
        match c.security_context.and_then(|s| s.seccomp_profile.as_ref()) {
            Some(p) if !seccomp_type_ok(&p.type_) => {
                let m = format!(
                    "container {} must not set securityContext.seccompProfile.type to {:?}",
                    c.name, p.type_
                );
                out.push(Violation::new(Some(c.name), field, m));
            }
            None if !pod_set => {
                let m = format!(
                    "pod or container {} must set securityContext.seccompProfile.type to \
                     \"RuntimeDefault\" or \"Localhost\"",
                    c.name
                );
                out.push(Violation::new(Some(c.name), field, m));
            }
            _ => {}
        }
    }
}
