//! Whether an exception's scope (service, environment) is a deployment's.

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
pub(super) fn service_matches(pattern: &str, service: &str) -> bool {
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
pub(super) fn check(
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
