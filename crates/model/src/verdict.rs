//! The small ordered enums: stage, verdict, risk level, snapshot section.

use std::fmt;
use std::str::FromStr;

/// The error of parsing one of this module's enums from a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseEnumError {
    /// What was being parsed (`stage`, `verdict`, ...).
    pub what: &'static str,
    /// The text that did not parse.
    pub got: String,
    /// The accepted values.
    pub expected: &'static [&'static str],
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} `{}`, expected one of: {}",
            self.what,
            self.got,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for ParseEnumError {}

/// An enum whose values have one name each in files, on the command line
/// and in JSON: what [`wire_enum!`](crate::wire_enum) implements, so that
/// code can be generic over such enums (e.g. a configuration error listing
/// the names a key accepts).
pub trait WireEnum: Copy + fmt::Display + FromStr<Err = ParseEnumError> + 'static {
    /// What a value is called in errors (`stage`, `format`, ...).
    const WHAT: &'static str;
    /// Every value, in order.
    const ALL: &'static [Self];
    /// Every value's name, in order.
    const NAMES: &'static [&'static str];

    /// The value's name.
    fn name(self) -> &'static str;
}

/// Declares a string enum from one list of variants and their names: the
/// enum (with `Serialize`/`Deserialize` by those names), `ALL`, `NAMES`,
/// `as_str`, `Display`, `FromStr` (with [`ParseEnumError`]) and
/// [`WireEnum`]. The crate using it needs `serde` (with `derive`).
///
/// ```
/// shipgate_model::wire_enum! {
///     /// A colour.
///     pub Colour("colour") {
///         /// Red.
///         Red = "red",
///         /// Light blue.
///         LightBlue = "light-blue",
///     }
/// }
/// assert_eq!("light-blue".parse::<Colour>(), Ok(Colour::LightBlue));
/// assert_eq!(Colour::NAMES, ["red", "light-blue"]);
/// assert_eq!(Colour::Red.to_string(), "red");
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value's name, in order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value's name in files and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::ParseEnumError;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::ParseEnumError {
                        what: $what,
                        got: ::std::borrow::ToOwned::to_owned(s),
                        expected: Self::NAMES,
                    }),
                }
            }
        }

        impl $crate::WireEnum for $name {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = $name::ALL;
            const NAMES: &'static [&'static str] = $name::NAMES;

            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    };
}

/// [`wire_enum!`](crate::wire_enum) for this crate's public enums, with a
/// JSON Schema under the `schema` feature.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident $($rest:tt)*) => {
        $crate::wire_enum! {
            $(#[$meta])*
            #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
            pub $name $($rest)*
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// The question the host asks a policy.
    Stage("stage") {
        /// Go / no-go before a deploy.
        Gate = "gate",
        /// Promote / hold / roll back during a progressive rollout.
        Canary = "canary",
        /// What is the risk of this change.
        Risk = "risk",
        /// Is the deployed version healthy: keep it, or roll it back.
        Verify = "verify",
    }
}

string_enum! {
    /// A verdict, ordered from the most permissive to the strictest:
    /// `go < hold < no-go < rollback`.
    Verdict("verdict") {
        /// Proceed (or promote, during a rollout).
        Go = "go",
        /// Wait: not enough evidence either way.
        Hold = "hold",
        /// Do not deploy.
        NoGo = "no-go",
        /// Undo the deploy now.
        Rollback = "rollback",
    }
}

string_enum! {
    /// A risk level, ordered `low < medium < high < critical`.
    RiskLevel("risk level") {
        /// Docs, non-breaking additions, performance work.
        Low = "low",
        /// New features, dependency updates, configuration.
        Medium = "medium",
        /// Breaking API changes, migrations, security patches.
        High = "high",
        /// Core systems, authentication, data model.
        Critical = "critical",
    }
}

string_enum! {
    /// A section of the snapshot, as a policy declares what it reads.
    Section("section") {
        /// [`crate::Deployment`].
        Deployment = "deployment",
        /// [`crate::Ci`].
        Ci = "ci",
        /// [`crate::Change`].
        Change = "change",
        /// [`crate::Environment`].
        Environment = "environment",
        /// [`crate::Rollout`].
        Rollout = "rollout",
        /// [`crate::Metric`]s.
        Metrics = "metrics",
        /// [`crate::Alert`]s.
        Alerts = "alerts",
        /// [`crate::ErrorSignature`]s.
        ErrorSignatures = "error-signatures",
        /// [`crate::PastDeployment`]s.
        History = "history",
        /// Free-form labels.
        Labels = "labels",
        /// [`crate::Health`].
        Health = "health",
    }
}

impl Verdict {
    /// The stricter of two verdicts.
    pub fn max(self, other: Verdict) -> Verdict {
        std::cmp::max(self, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_are_ordered_by_strictness() {
        assert!(Verdict::Go < Verdict::Hold);
        assert!(Verdict::Hold < Verdict::NoGo);
        assert!(Verdict::NoGo < Verdict::Rollback);
        assert_eq!(Verdict::Hold.max(Verdict::NoGo), Verdict::NoGo);
        assert!(RiskLevel::Low < RiskLevel::Critical);
    }

    #[test]
    fn names_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(v.as_str().parse::<Verdict>(), Ok(*v));
        }
        let err = "nogo".parse::<Verdict>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown verdict `nogo`, expected one of: go, hold, no-go, rollback"
        );
    }
}
