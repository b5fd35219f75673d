//! The agent's enrollment as a state machine (docs/agent-protocol.md, section 1): from
//! no identity, through the credential challenge, to an identity whose client
//! certificate is renewed at half-life, and back to enrolling again when the certificate
//! expires or the service refuses it.
//!
//! [`Enrollment`] and its transition function are pure; the identity (`I`) lives in the
//! states that have one, so a session cannot hold an identity while unenrolled or lack
//! one while enrolled. The `impl Session` below drives it: each step's I/O (in
//! `enroll.rs`) ends in an event the machine accepts or refuses.

use crate::client::{service_client, ServiceClient};
use crate::enroll::{
    activate, identity_path, load, renew, request_challenge, unix_now, CertificateAge, Identity,
};
use crate::{AgentError, Session};

/// Where the agent's enrollment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Enrollment<I> {
    /// No identity: the next step is to enroll (again).
    Unenrolled,
    /// EK and AK were sent; the service's credential challenge waits for the TPM.
    Challenged,
    /// An identity whose client certificate is used as it is.
    Enrolled(I),
    /// An identity past half its certificate's life: renewed with itself, and used
    /// until then.
    RenewalDue(I),
}

/// What happened to the enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnrollmentEvent<I> {
    /// An identity an earlier run stored for the TPM's current AK, and its certificate's age.
    Loaded(I, CertificateAge),
    /// The service answered EK and AK with a credential challenge.
    Challenged,
    /// The TPM answered the challenge and the service issued a client certificate.
    Activated(I),
    /// The enrollment failed after the challenge: it is consumed, start again.
    Failed,
    /// The certificate's age, checked before each attestation.
    Aged(CertificateAge),
    /// The service renewed the certificate.
    Renewed(I),
    /// The identity was dropped: the service refused the certificate (revoked by a later
    /// enrollment of this TPM, or the host was deleted), or the caller asked.
    Forgotten,
}

/// An event [`Enrollment::apply`] refuses: the agent's bug, never the service's doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("enrollment cannot go from {from} on {event}")]
pub(crate) struct IllegalEnrollment {
    pub from: &'static str,
    pub event: &'static str,
}

impl<I> Enrollment<I> {
    /// The transition function. On a refused event the state is left as it was.
    pub fn apply(&mut self, event: EnrollmentEvent<I>) -> Result<(), IllegalEnrollment> {
        let from = std::mem::replace(self, Enrollment::Unenrolled);
        let from_name = from.name();
        let event_name = event.name();
        match from.next(event) {
            Ok(to) => {
                *self = to;
                Ok(())
            }
            Err(unchanged) => {
                *self = unchanged;
                Err(IllegalEnrollment {
                    from: from_name,
                    event: event_name,
                })
            }
        }
    }

    fn next(self, event: EnrollmentEvent<I>) -> Result<Self, Self> {
        use EnrollmentEvent as E;
        match (self, event) {
            (Enrollment::Unenrolled, E::Loaded(id, age)) => Ok(Self::by_age(id, age)),
            (Enrollment::Unenrolled, E::Challenged) => Ok(Enrollment::Challenged),
            (Enrollment::Challenged, E::Activated(id)) => Ok(Enrollment::Enrolled(id)),
            (Enrollment::Challenged, E::Failed) => Ok(Enrollment::Unenrolled),
            (Enrollment::Enrolled(id) | Enrollment::RenewalDue(id), E::Aged(age)) => {
                Ok(Self::by_age(id, age))
            }
            (Enrollment::RenewalDue(_), E::Renewed(id)) => Ok(Enrollment::Enrolled(id)),
            (_, E::Forgotten) => Ok(Enrollment::Unenrolled),
            (from, _) => Err(from),
        }
    }

    /// An expired certificate would fail the TLS handshake: enroll again instead.
    fn by_age(id: I, age: CertificateAge) -> Self {
        match age {
            CertificateAge::Fresh => Enrollment::Enrolled(id),
            CertificateAge::RenewalDue => Enrollment::RenewalDue(id),
            CertificateAge::Expired => Enrollment::Unenrolled,
        }
    }

    /// The identity, in the states that have one.
    pub fn identity(&self) -> Option<&I> {
        match self {
            Enrollment::Enrolled(id) | Enrollment::RenewalDue(id) => Some(id),
            Enrollment::Unenrolled | Enrollment::Challenged => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Enrollment::Unenrolled => "unenrolled",
            Enrollment::Challenged => "challenged",
            Enrollment::Enrolled(_) => "enrolled",
            Enrollment::RenewalDue(_) => "renewal due",
        }
    }
}

impl<I> EnrollmentEvent<I> {
    fn name(&self) -> &'static str {
        match self {
            EnrollmentEvent::Loaded(..) => "loaded",
            EnrollmentEvent::Challenged => "challenged",
            EnrollmentEvent::Activated(_) => "activated",
            EnrollmentEvent::Failed => "failed",
            EnrollmentEvent::Aged(_) => "aged",
            EnrollmentEvent::Renewed(_) => "renewed",
            EnrollmentEvent::Forgotten => "forgotten",
        }
    }
}

/// An identity and the client that presents its certificate.
pub(crate) type Credentials = (Identity, ServiceClient);

/// The session's enrollment, driven through the state machine above.
impl Session {
    fn lifecycle(&mut self, event: EnrollmentEvent<Credentials>) -> Result<(), AgentError> {
        self.enrollment
            .apply(event)
            .map_err(|e| AgentError::Config(e.to_string()))
    }

    fn client_for(&self, id: &Identity, key: &str) -> Result<ServiceClient, AgentError> {
        service_client(
            &self.cfg.server,
            &self.cfg.ca_pem,
            Some((&id.client_certificate_pem, key)),
        )
    }

    /// The host id once enrolled.
    pub fn host_id(&self) -> Option<&str> {
        self.enrollment
            .identity()
            .map(|(id, _)| id.host_id.as_str())
    }

    /// Loads the stored identity, or enrolls when there is none or the TPM's AK changed.
    pub async fn ensure_enrolled(&mut self) -> Result<String, AgentError> {
        if matches!(self.enrollment, Enrollment::Challenged) {
            // An enrollment interrupted after its challenge: that challenge is spent.
            self.lifecycle(EnrollmentEvent::Failed)?;
        }
        if self.enrollment.identity().is_none() {
            self.load_identity().await?;
        }
        if self.enrollment.identity().is_none() {
            self.enroll().await?;
        }
        self.host_id()
            .map(str::to_owned)
            .ok_or_else(|| AgentError::Config("not enrolled".into()))
    }

    /// The identity an earlier run stored, unless the TPM's AK changed since.
    async fn load_identity(&mut self) -> Result<(), AgentError> {
        let Some((id, key)) = load(&self.cfg.state_dir)? else {
            return Ok(());
        };
        // A TPM that was cleared or re-provisioned has a different AK: enroll again.
        let ak = self.tpm.call(|t| Ok(t.attestation_key()?)).await?;
        if hex::encode(&ak.public) != id.ak_public_hex {
            tracing::warn!("the TPM's attestation key changed since enrollment; enrolling again");
            return Ok(());
        }
        // A certificate that expired while the agent was stopped would fail the TLS
        // handshake: enroll again, without reading it.
        let age = id.certificate_age(unix_now());
        if age == CertificateAge::Expired {
            tracing::warn!("the client certificate has expired; enrolling again");
            return Ok(());
        }
        let client = self.client_for(&id, &key)?;
        self.lifecycle(EnrollmentEvent::Loaded((id, client), age))
    }

    async fn enroll(&mut self) -> Result<(), AgentError> {
        let pending = request_challenge(
            &self.anon,
            &self.tpm,
            &self.cfg.hostname,
            &self.cfg.hardware_uuid,
        )
        .await?;
        self.lifecycle(EnrollmentEvent::Challenged)?;
        let activated = match activate(
            &self.anon,
            &self.tpm,
            &self.cfg.state_dir,
            &self.cfg.hostname,
            pending,
        )
        .await
        {
            Ok((id, key)) => self.client_for(&id, &key).map(|client| (id, client)),
            Err(e) => Err(e),
        };
        match activated {
            Ok(credentials) => self.lifecycle(EnrollmentEvent::Activated(credentials)),
            Err(e) => {
                self.lifecycle(EnrollmentEvent::Failed)?;
                Err(e)
            }
        }
    }

    /// Renews the client certificate past its half-life; enrolls again when it has
    /// expired or the service refuses it (revoked by a re-enrollment).
    pub async fn renew_certificate_if_due(&mut self) -> Result<(), AgentError> {
        let Some((id, _)) = self.enrollment.identity() else {
            return Ok(());
        };
        let age = id.certificate_age(unix_now());
        self.lifecycle(EnrollmentEvent::Aged(age))?;
        let Enrollment::RenewalDue((id, client)) = &self.enrollment else {
            if age == CertificateAge::Expired {
                tracing::warn!("the client certificate has expired; enrolling again");
                self.forget_identity();
            }
            return Ok(());
        };
        match renew(client, &self.cfg.state_dir, &self.cfg.hostname, id).await {
            Ok((id, key)) => {
                let client = self.client_for(&id, &key)?;
                self.lifecycle(EnrollmentEvent::Renewed((id, client)))
            }
            Err(AgentError::Refused(e))
                if matches!(
                    e.kind,
                    ironroot_api::ErrorKind::Unauthenticated | ironroot_api::ErrorKind::Forbidden
                ) =>
            {
                tracing::warn!(error = %e.message, "certificate renewal refused; enrolling again");
                self.forget_identity();
                Ok(())
            }
            // The current certificate still works until it expires: still due, retried.
            Err(e) => Err(e),
        }
    }

    /// Drops the identity so that the next [`Session::ensure_enrolled`] enrolls again.
    pub fn forget_identity(&mut self) {
        if let Err(e) = self.lifecycle(EnrollmentEvent::Forgotten) {
            tracing::error!(error = %e, "forgetting the identity");
        }
        let _ = std::fs::remove_file(identity_path(&self.cfg.state_dir));
    }

    pub(crate) fn client(&self) -> Result<&ServiceClient, AgentError> {
        self.enrollment
            .identity()
            .map(|(_, c)| c)
            .ok_or_else(|| AgentError::Config("not enrolled".into()))
    }
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
