//! Exceptions in use: `[[exceptions]]` in `shipgate.toml` names signed
//! exception files (`shipgate exception sign`); once verified
//! (`shipgate-fetch`, against the trust file's `[exceptions]` keys) each is
//! a [`Waiver`] the engine applies to the deployments in its scope while it
//! is valid: the rule (or the whole policy) it names counts as advisory,
//! and every report shows it, applied or not, by digest.
//!
//! ```toml
//! [[exceptions]]
//! file = "exceptions/OPS-1234.exception"
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use shipgate_model::Timestamp;

use super::Location;

/// One `[[exceptions]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionSource {
    /// The signed exception file, resolved against the configuration's
    /// directory.
    pub file: PathBuf,
    /// Where the entry starts in the file.
    pub location: Location,
}

/// One `[[exceptions]]` entry as the file has it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExceptionEntry {
    #[serde(default)]
    pub(super) file: Option<PathBuf>,
}

/// A verified exception: what the engine applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// The policy it loosens.
    pub policy: String,
    /// The rule it loosens; `None`: the whole policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The service (or a glob) it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The environment it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Why.
    pub reason: String,
    /// The ticket.
    pub ticket: String,
    /// From when.
    pub issued: Timestamp,
    /// Until when (exclusive).
    pub expires: Timestamp,
    /// The exception's digest (`sha256:…` of its signed payload).
    pub digest: String,
    /// The key ids whose signatures were verified.
    pub signers: Vec<String>,
}

impl Waiver {
    /// Whether it applies to a deployment of `service` to `environment`
    /// requested at `at`; else why not, in words.
    pub fn applies_to(
        &self,
        service: &str,
        environment: &str,
        at: Timestamp,
    ) -> Result<(), String> {
        if at < self.issued {
            return Err(format!(
                "it is not valid yet at the deployment's time (issued {})",
                self.issued
            ));
        }
        if at >= self.expires {
            return Err(format!(
                "it expired at {}, before the deployment's time",
                self.expires
            ));
        }
        scope_check(
            self.service.as_deref(),
            self.environment.as_deref(),
            service,
            environment,
        )
        .map_err(|e| e.to_string())
    }

    /// Whether it loosens `rule` of `policy` (`None`: the policy's outcome
    /// as a whole): a whole-policy exception covers every rule of it.
    pub fn covers(&self, policy: &str, rule: Option<&str>) -> bool {
        self.policy == policy
            && match (&self.rule, rule) {
                (None, _) => true,
                (Some(ours), Some(theirs)) => ours == theirs,
                (Some(_), None) => false,
            }
    }
}

/// Why an exception does not apply to a deployment, in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutOfScope {
    /// Another service (or a glob that does not match it).
    #[error("its service is `{exception}`, this deployment's is `{deployment}`")]
    Service {
        /// The exception's service or glob.
        exception: String,
        /// The deployment's service.
        deployment: String,
    },
    /// Another environment.
    #[error("its environment is `{exception}`, this deployment's is `{deployment}`")]
    Environment {
        /// The exception's environment.
        exception: String,
        /// The deployment's environment.
        deployment: String,
    },
    /// The exception names a service or an environment, and the deployment
    /// has none.
    #[error("its {what} is `{exception}`, and this deployment names no {what}")]
    Unnamed {
        /// `service` or `environment`.
        what: &'static str,
        /// The exception's value.
        exception: String,
    },
}

/// Whether `service` is covered by the exception's service or glob.
pub fn service_matches(pattern: &str, service: &str) -> bool {
    if pattern == service {
        return true;
    }
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: false,
        require_literal_leading_dot: false,
    };
    glob::Pattern::new(pattern).is_ok_and(|p| p.matches_with(service, options))
}

/// The scope check: `Ok` when every part the exception names is the
/// deployment's.
pub fn scope_check(
    exception_service: Option<&str>,
    exception_environment: Option<&str>,
    service: &str,
    environment: &str,
) -> Result<(), OutOfScope> {
    if let Some(pattern) = exception_service {
        if service.is_empty() {
            return Err(OutOfScope::Unnamed {
                what: "service",
                exception: pattern.to_owned(),
            });
        }
        if !service_matches(pattern, service) {
            return Err(OutOfScope::Service {
                exception: pattern.to_owned(),
                deployment: service.to_owned(),
            });
        }
    }
    if let Some(wanted) = exception_environment {
        if environment.is_empty() {
            return Err(OutOfScope::Unnamed {
                what: "environment",
                exception: wanted.to_owned(),
            });
        }
        if wanted != environment {
            return Err(OutOfScope::Environment {
                exception: wanted.to_owned(),
                deployment: environment.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiver() -> Waiver {
        Waiver {
            policy: "canary".into(),
            rule: Some("canary.error-rate".into()),
            service: Some("payments-*".into()),
            environment: Some("production".into()),
            reason: "r".into(),
            ticket: "OPS-1".into(),
            issued: Timestamp(1_000),
            expires: Timestamp(2_000),
            digest: "sha256:00".into(),
            signers: Vec::new(),
        }
    }

    #[test]
    fn a_waiver_applies_in_its_scope_and_its_time_only() {
        let w = waiver();
        assert_eq!(
            w.applies_to("payments-api", "production", Timestamp(1_500)),
            Ok(())
        );
        assert!(
            w.applies_to("payments-api", "production", Timestamp(999))
                .unwrap_err()
                .contains("not valid yet")
        );
        assert!(
            w.applies_to("payments-api", "production", Timestamp(2_000))
                .unwrap_err()
                .contains("expired")
        );
        assert_eq!(
            w.applies_to("checkout", "production", Timestamp(1_500))
                .unwrap_err(),
            "its service is `payments-*`, this deployment's is `checkout`"
        );
        assert!(
            w.applies_to("payments-api", "staging", Timestamp(1_500))
                .is_err()
        );
        assert!(w.covers("canary", Some("canary.error-rate")));
        assert!(!w.covers("canary", Some("canary.latency")));
        assert!(!w.covers("canary", None));
    }
}
