//! Every container of a pod seen one way: init containers, containers and ephemeral
//! containers (a different type in the API with the same security fields), in the order
//! Pod Security Admission visits them.

use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EphemeralContainer, Lifecycle, PodSpec, Probe, ResourceRequirements,
    SecurityContext,
};

/// One container of any of the three kinds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContainerView<'a> {
    /// `initContainers`, `containers` or `ephemeralContainers`.
    pub list: &'static str,
    pub name: &'a str,
    pub image: Option<&'a str>,
    pub security_context: Option<&'a SecurityContext>,
    pub ports: &'a [ContainerPort],
    pub probes: [Option<&'a Probe>; 3],
    pub lifecycle: Option<&'a Lifecycle>,
    pub resources: Option<&'a ResourceRequirements>,
}

impl<'a> ContainerView<'a> {
    fn of(list: &'static str, c: &'a Container) -> Self {
        ContainerView {
            list,
            name: &c.name,
            image: c.image.as_deref(),
            security_context: c.security_context.as_ref(),
            ports: c.ports.as_deref().unwrap_or_default(),
            probes: [
                c.liveness_probe.as_ref(),
                c.readiness_probe.as_ref(),
                c.startup_probe.as_ref(),
            ],
            lifecycle: c.lifecycle.as_ref(),
            resources: c.resources.as_ref(),
        }
    }

    fn of_ephemeral(c: &'a EphemeralContainer) -> Self {
        ContainerView {
            list: "ephemeralContainers",
            name: &c.name,
            image: c.image.as_deref(),
            security_context: c.security_context.as_ref(),
            ports: c.ports.as_deref().unwrap_or_default(),
            probes: [
                c.liveness_probe.as_ref(),
                c.readiness_probe.as_ref(),
                c.startup_probe.as_ref(),
            ],
            lifecycle: c.lifecycle.as_ref(),
            resources: c.resources.as_ref(),
        }
    }

    /// `spec.containers[app].rest`, the way messages name a field.
    pub fn field(&self, rest: &str) -> String {
        format!("spec.{}[{}].{rest}", self.list, self.name)
    }

    pub fn is_ephemeral(&self) -> bool {
        self.list == "ephemeralContainers"
    }
}

/// Init containers, then containers, then ephemeral containers.
pub(crate) fn all(spec: &PodSpec) -> impl Iterator<Item = ContainerView<'_>> {
    let init = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| ContainerView::of("initContainers", c));
    let main = spec
        .containers
        .iter()
        .map(|c| ContainerView::of("containers", c));
    let eph = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(ContainerView::of_ephemeral);
    init.chain(main).chain(eph)
}
