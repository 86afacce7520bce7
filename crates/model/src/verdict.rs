//! The small ordered enums: stage, verdict, risk level, snapshot section.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

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

/// Declares a kebab-case string enum with `Display`, `FromStr`, `ALL` and
/// `as_str`, all from one list of variants.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        pub enum $name {
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

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { what: $what, got: s.to_owned(), expected: Self::NAMES }),
                }
            }
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
