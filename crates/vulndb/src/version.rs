//! Versions parsed once into their ecosystem's ordering, and OSV's range algorithm over them.

use std::cmp::Ordering;

use ironroot_vercmp::{ApkVersion, DpkgVersion, Ecosystem, RpmVersion, VersionError};

/// A version of one ecosystem, parsed. Comparing versions of two ecosystems is a bug the
/// index rules out (one namespace, one ecosystem); it orders them as unequal, never panics.
#[derive(Debug, Clone)]
pub(crate) enum Version {
    Dpkg(DpkgVersion),
    Rpm(RpmVersion),
    Apk(ApkVersion),
}

impl Version {
    pub(crate) fn parse(ecosystem: Ecosystem, s: &str) -> Result<Version, VersionError> {
        Ok(match ecosystem {
            Ecosystem::Dpkg => Version::Dpkg(DpkgVersion::parse(s)?),
            Ecosystem::Rpm => Version::Rpm(RpmVersion::parse(s)?),
            // vercmp's Ecosystem is non_exhaustive; only Apk is left today.
            _ => Version::Apk(ApkVersion::parse(s)?),
        })
    }

    pub(crate) fn cmp(&self, other: &Version) -> Ordering {
        match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            _ => Ordering::Less,
        }
    }
}

/// A point on an OSV range's version line: `introduced: "0"` is below every version and
/// `limit: "*"` above.
#[derive(Debug, Clone)]
pub(crate) enum Point {
    Zero,
    At { text: String, version: Version },
    Infinity,
}

impl Point {
    fn cmp_version(&self, v: &Version) -> Ordering {
        match self {
            Point::Zero => Ordering::Less,
            Point::Infinity => Ordering::Greater,
            Point::At { version, .. } => version.cmp(v),
        }
    }

    fn cmp(&self, other: &Point) -> Ordering {
        match (self, other) {
            (Point::Zero, Point::Zero) | (Point::Infinity, Point::Infinity) => Ordering::Equal,
            (Point::Zero, _) | (_, Point::Infinity) => Ordering::Less,
            (_, Point::Zero) | (Point::Infinity, _) => Ordering::Greater,
            (Point::At { version: a, .. }, Point::At { version: b, .. }) => a.cmp(b),
        }
    }

    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Point::At { text, .. } => Some(text),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) kind: EventKind,
    pub(crate) point: Point,
}

/// One ECOSYSTEM range, its events parsed and sorted at load time so that matching is one
/// pass of comparisons.
#[derive(Debug, Clone)]
pub(crate) struct Range {
    events: Vec<Event>,
}

impl Range {
    /// Parses every event's version and sorts the events in the ecosystem's order.
    pub(crate) fn new(
        ecosystem: Ecosystem,
        raw: Vec<(EventKind, String)>,
    ) -> Result<Range, VersionError> {
        let mut events = raw
            .into_iter()
            .map(|(kind, text)| {
                let point = match (kind, text.as_str()) {
                    (EventKind::Introduced, "0") => Point::Zero,
                    (EventKind::Limit, "*") => Point::Infinity,
                    _ => Point::At {
                        version: Version::parse(ecosystem, &text)?,
                        text,
                    },
                };
                Ok(Event { kind, point })
            })
            .collect::<Result<Vec<_>, VersionError>>()?;
        // Stable: events at one version keep the record's order.
        events.sort_by(|a, b| a.point.cmp(&b.point));
        Ok(Range { events })
    }

    /// OSV's algorithm: inside the limits, and the sweep over sorted events ends affected.
    /// On a hit, the first `fixed` above `v` is the fix to offer.
    pub(crate) fn evaluate(&self, v: &Version) -> Option<Option<&str>> {
        if !self.before_limits(v) {
            return None;
        }
        let mut affected = false;
        let mut next_fix = None;
        for event in &self.events {
            let order = event.point.cmp_version(v);
            match event.kind {
                EventKind::Introduced if order != Ordering::Greater => affected = true,
                EventKind::Fixed if order != Ordering::Greater => affected = false,
                EventKind::LastAffected if order == Ordering::Less => affected = false,
                EventKind::Fixed if next_fix.is_none() => next_fix = event.point.text(),
                _ => {}
            }
        }
        affected.then_some(next_fix)
    }

    /// The first `fixed` event above `v`, for a version listed in `versions[]`.
    pub(crate) fn next_fix(&self, v: &Version) -> Option<&str> {
        self.events
            .iter()
            .find(|e| e.kind == EventKind::Fixed && e.point.cmp_version(v) == Ordering::Greater)
            .and_then(|e| e.point.text())
    }

    fn before_limits(&self, v: &Version) -> bool {
        let mut limits = self
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Limit)
            .peekable();
        limits.peek().is_none() || limits.any(|e| e.point.cmp_version(v) == Ordering::Greater)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use EventKind::*;

    fn range(eco: Ecosystem, events: &[(EventKind, &str)]) -> Range {
        Range::new(
            eco,
            events.iter().map(|(k, s)| (*k, s.to_string())).collect(),
        )
        .unwrap()
    }

    fn hit(r: &Range, eco: Ecosystem, v: &str) -> Option<Option<String>> {
        r.evaluate(&Version::parse(eco, v).unwrap())
            .map(|f| f.map(str::to_owned))
    }

    #[test]
    fn introduced_zero_and_fixed() {
        let r = range(
            Ecosystem::Dpkg,
            &[(Introduced, "0"), (Fixed, "2.36-9+deb12u3")],
        );
        assert_eq!(
            hit(&r, Ecosystem::Dpkg, "2.36-9+deb12u2"),
            Some(Some("2.36-9+deb12u3".into()))
        );
        assert_eq!(hit(&r, Ecosystem::Dpkg, "2.36-9+deb12u3"), None);
        assert_eq!(hit(&r, Ecosystem::Dpkg, "2.36-9+deb12u10"), None);
    }

    #[test]
    fn last_affected_is_inclusive() {
        let r = range(
            Ecosystem::Apk,
            &[(Introduced, "5.6.0"), (LastAffected, "5.6.1-r1")],
        );
        assert_eq!(hit(&r, Ecosystem::Apk, "5.5.9-r0"), None);
        assert_eq!(hit(&r, Ecosystem::Apk, "5.6.0-r0"), Some(None));
        assert_eq!(hit(&r, Ecosystem::Apk, "5.6.1-r1"), Some(None));
        assert_eq!(hit(&r, Ecosystem::Apk, "5.6.1-r2"), None);
    }

    #[test]
    fn events_out_of_order_are_sorted_and_reintroduction_works() {
        let r = range(
            Ecosystem::Dpkg,
            &[
                (Fixed, "3.0"),
                (Introduced, "2.0"),
                (Fixed, "1.5"),
                (Introduced, "0"),
            ],
        );
        assert_eq!(hit(&r, Ecosystem::Dpkg, "1.0"), Some(Some("1.5".into())));
        assert_eq!(hit(&r, Ecosystem::Dpkg, "1.9"), None);
        assert_eq!(hit(&r, Ecosystem::Dpkg, "2.5"), Some(Some("3.0".into())));
        assert_eq!(hit(&r, Ecosystem::Dpkg, "3.0"), None);
    }

    #[test]
    fn limit_bounds_the_range() {
        let r = range(Ecosystem::Dpkg, &[(Introduced, "0"), (Limit, "2.0")]);
        assert_eq!(hit(&r, Ecosystem::Dpkg, "1.9"), Some(None));
        assert_eq!(hit(&r, Ecosystem::Dpkg, "2.0"), None);
        let r = range(Ecosystem::Dpkg, &[(Introduced, "0"), (Limit, "*")]);
        assert_eq!(hit(&r, Ecosystem::Dpkg, "99"), Some(None));
    }

    #[test]
    fn epoch_orders_above_any_upstream() {
        let r = range(
            Ecosystem::Dpkg,
            &[(Introduced, "0"), (Fixed, "1:1.3.dfsg-2")],
        );
        assert_eq!(
            hit(&r, Ecosystem::Dpkg, "9.9"),
            Some(Some("1:1.3.dfsg-2".into()))
        );
        assert_eq!(
            hit(&r, Ecosystem::Dpkg, "1:1.2.13.dfsg-1"),
            Some(Some("1:1.3.dfsg-2".into()))
        );
    }

    #[test]
    fn unparsable_event_version_is_an_error() {
        let err = Range::new(Ecosystem::Dpkg, vec![(Fixed, "a:1".into())]).unwrap_err();
        assert!(matches!(err, VersionError::Dpkg { .. }));
    }
}
