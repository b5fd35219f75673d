//! Splitting a vector body into `METRIC:VALUE` pairs, shared by all versions.

use crate::CvssError;

/// The `METRIC:VALUE` pairs of a vector body (the part after the version prefix), in input order,
/// with duplicates and malformed components refused. An empty body has no pairs; the caller then
/// reports the first missing base metric, which says more than "malformed".
pub(crate) fn split(body: &str) -> Result<Vec<(&str, &str)>, CvssError> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if body.is_empty() {
        return Ok(pairs);
    }
    for component in body.split('/') {
        let (metric, value) = component
            .split_once(':')
            .filter(|(m, v)| !m.is_empty() && !v.is_empty() && !v.contains(':'))
            .ok_or_else(|| CvssError::MalformedComponent(component.to_owned()))?;
        if pairs.iter().any(|(m, _)| *m == metric) {
            return Err(CvssError::DuplicateMetric(metric.to_owned()));
        }
        pairs.push((metric, value));
    }
    Ok(pairs)
}

/// Declares a metric's values as an enum parsed from the vector abbreviations.
macro_rules! metric {
    ($(#[$doc:meta])* $name:ident = $abbrev:literal {
        $first:ident = $first_value:literal $(, $variant:ident = $value:literal)* $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum $name { $first $(, $variant)* }

        impl $name {
            /// The metric's abbreviation in a vector string.
            pub const METRIC: &'static str = $abbrev;
            /// Every value, in specification order.
            pub const ALL: &'static [$name] = &[$name::$first $(, $name::$variant)*];

            /// Parses the value abbreviation.
            pub(crate) fn parse(value: &str) -> Result<Self, $crate::CvssError> {
                match value {
                    $first_value => Ok($name::$first),
                    $($value => Ok($name::$variant),)*
                    other => Err($crate::CvssError::UnknownValue {
                        metric: $abbrev,
                        value: other.to_owned(),
                        allowed: concat!($first_value $(, "/", $value)*).to_owned(),
                    }),
                }
            }

            /// The value's abbreviation in a vector string.
            pub fn abbrev(self) -> &'static str {
                match self {
                    $name::$first => $first_value,
                    $($name::$variant => $value),*
                }
            }
        }
    };
}
pub(crate) use metric;

/// Parses a value that may also be `X` (Not Defined), as environmental metrics allow; `X` is `None`.
pub(crate) fn optional<T>(
    metric: &'static str,
    value: &str,
    parse: fn(&str) -> Result<T, CvssError>,
) -> Result<Option<T>, CvssError> {
    if value == "X" {
        return Ok(None);
    }
    parse(value).map(Some).map_err(|e| match e {
        CvssError::UnknownValue { value, allowed, .. } => CvssError::UnknownValue {
            metric,
            value,
            allowed: format!("{allowed}/X"),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pairs_keep_input_order() {
        assert_eq!(split("AV:N/AC:L").unwrap(), vec![("AV", "N"), ("AC", "L")]);
    }

    #[test]
    fn malformed_components_are_refused() {
        assert!(split("").unwrap().is_empty());
        for body in ["/", "AV:N/", "AV:N//AC:L", "AV", "AV:", ":N", "AV:N:L"] {
            assert!(
                matches!(split(body), Err(CvssError::MalformedComponent(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn duplicates_are_refused_even_with_the_same_value() {
        assert_eq!(
            split("AV:N/AC:L/AV:N"),
            Err(CvssError::DuplicateMetric("AV".into()))
        );
    }
}
