//! Rate limits that keep one noisy node, or a flood of bogus enrollments, from hurting
//! honest nodes: a token bucket per host for attestation and per client address for
//! enrollment (governor's keyed GCRA limiters).

use crate::error::ServiceError;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
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
}

fn quota(b: RateBudget) -> Quota {
    let per_second = NonZeroU32::new(b.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(b.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

impl Limits {
    pub fn new(attest: RateBudget, enroll: RateBudget) -> Self {
        Limits {
            attest: RateLimiter::keyed(quota(attest)),
            enroll: RateLimiter::keyed(quota(enroll)),
        }
    }

    /// One attestation request (challenge or evidence) by an enrolled host.
    pub fn attest(&self, host_id: &str) -> Result<(), ServiceError> {
        self.attest.check_key(&host_id.to_owned()).map_err(|_| {
            ServiceError::RateLimited(
                "too many attestation requests from this host; slow down".into(),
            )
        })
    }

    /// One enrollment request from a client address.
    pub fn enroll(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.enroll.check_key(&ip).map_err(|_| {
            ServiceError::RateLimited(
                "too many enrollment requests from this address; slow down".into(),
            )
        })
    }

    /// Drops the state of keys that have been quiet long enough to be full again, so that
    /// the limiters' memory follows the active fleet, not every address ever seen.
    pub fn forget_idle(&self) {
        self.attest.retain_recent();
        self.enroll.retain_recent();
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
