//! Rate limits that keep one noisy node, or a flood of bogus enrollments, from hurting
//! honest nodes: a token bucket per client certificate for attestation, and for
//! enrollment one per client address, one per EK and one for the whole service, so that
//! changing source address does not dodge them (governor's GCRA limiters).

use crate::error::ServiceError;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Per-key budgets: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateBudget {
    pub burst: u32,
    pub per_second: u32,
}

pub(crate) struct Limits {
    attest: DefaultKeyedRateLimiter<String>,
    enroll: DefaultKeyedRateLimiter<IpAddr>,
    enroll_ek: DefaultKeyedRateLimiter<Vec<u8>>,
    enroll_global: DefaultDirectRateLimiter,
}

/// One TPM enrolls at start and after a change of AK; a few attempts at once, then one
/// every ten seconds, is plenty for an honest agent and slows one that resets a host.
fn ek_quota(burst: u32) -> Quota {
    Quota::with_period(std::time::Duration::from_secs(10))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

fn quota(b: RateBudget) -> Quota {
    let per_second = NonZeroU32::new(b.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(b.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

impl Limits {
    pub fn new(
        attest: RateBudget,
        enroll: RateBudget,
        enroll_ek_burst: u32,
        enroll_global: RateBudget,
    ) -> Self {
        Limits {
            attest: RateLimiter::keyed(quota(attest)),
            enroll: RateLimiter::keyed(quota(enroll)),
            enroll_ek: RateLimiter::keyed(ek_quota(enroll_ek_burst)),
            enroll_global: RateLimiter::direct(quota(enroll_global)),
        }
    }

    /// One attestation request (challenge or evidence) made with a client certificate
    /// (its serial): a certificate revoked by re-enrollment has a budget of its own.
    pub fn attest(&self, cert_serial: &str) -> Result<(), ServiceError> {
        self.attest.check_key(&cert_serial.to_owned()).map_err(|_| {
            ServiceError::RateLimited(
                "too many attestation requests from this host; slow down".into(),
            )
        })
    }

    /// One enrollment request from a client address, counted for the service too.
    pub fn enroll(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.enroll.check_key(&ip).map_err(|_| {
            ServiceError::RateLimited(
                "too many enrollment requests from this address; slow down".into(),
            )
        })?;
        self.enroll_global.check().map_err(|_| {
            ServiceError::RateLimited("too many enrollments in progress; retry shortly".into())
        })
    }

    /// One enrollment of the EK whose public area has this digest.
    pub fn enroll_ek(&self, ek_digest: &[u8]) -> Result<(), ServiceError> {
        self.enroll_ek.check_key(&ek_digest.to_vec()).map_err(|_| {
            ServiceError::RateLimited("too many enrollments of this TPM; slow down".into())
        })
    }

    /// Drops the state of keys that have been quiet long enough to be full again, so that
    /// the limiters' memory follows the active fleet, not every address ever seen.
    pub fn forget_idle(&self) {
        self.attest.retain_recent();
        self.enroll.retain_recent();
        self.enroll_ek.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_noisy_host_does_not_limit_another() {
        let l = Limits::new(
            RateBudget {
                burst: 3,
                per_second: 1,
            },
            RateBudget {
                burst: 2,
                per_second: 1,
            },
            5,
            RateBudget {
                burst: 100,
                per_second: 1,
            },
        );
        for _ in 0..3 {
            assert!(l.attest("noisy").is_ok());
        }
        assert!(matches!(
            l.attest("noisy"),
            Err(ServiceError::RateLimited(_))
        ));
        assert!(l.attest("honest").is_ok());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(l.enroll(ip).is_ok() && l.enroll(ip).is_ok());
        assert!(l.enroll(ip).is_err());
        assert!(l.enroll("127.0.0.2".parse().unwrap()).is_ok());
    }
}

#[cfg(test)]
mod enrollment_tests {
    use super::*;

    fn limits(global_burst: u32) -> Limits {
        let wide = RateBudget {
            burst: 1000,
            per_second: 1,
        };
        Limits::new(
            wide,
            wide,
            5,
            RateBudget {
                burst: global_burst,
                per_second: 1,
            },
        )
    }

    #[test]
    fn enrollment_reset_of_one_ek_from_many_addresses_is_limited_per_ek() {
        let l = limits(1000);
        let ek = [7u8; 32];
        let mut allowed = 0;
        for i in 0..50u8 {
            let ip = IpAddr::from([10, 0, 0, i]);
            if l.enroll(ip).is_ok() && l.enroll_ek(&ek).is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "the EK's burst, whatever the addresses");
        assert!(l.enroll_ek(&[8u8; 32]).is_ok(), "another TPM is not slowed");
    }

    #[test]
    fn enrollment_flood_from_many_addresses_meets_the_global_limit() {
        let l = limits(10);
        let ok = (0..40u8)
            .filter(|i| l.enroll(IpAddr::from([10, 0, 1, *i])).is_ok())
            .count();
        assert_eq!(ok, 10);
    }
}
