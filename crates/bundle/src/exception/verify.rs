//! Verifying a signed exception against the trust file's `[exceptions]`
//! and the clock, and what a verified exception is for.

use std::collections::BTreeSet;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use super::{OutOfScope, SignedException, describe_length, format_time, scope, signed};
use crate::error::{Error, Result};
use crate::trust::{Trust, Usage};

/// What verification established: the exception, its digest and who
/// signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedException {
    /// The policy it loosens.
    pub policy: String,
    /// The one rule it loosens; `None`: the whole policy.
    pub rule: Option<String>,
    /// The services it applies to (a name or a glob); `None`: any.
    pub service: Option<String>,
    /// The environment it applies to; `None`: any.
    pub environment: Option<String>,
    /// Why.
    pub reason: String,
    /// The ticket.
    pub ticket: String,
    /// When it starts.
    #[serde(serialize_with = "rfc3339")]
    pub issued: OffsetDateTime,
    /// When it ends.
    #[serde(serialize_with = "rfc3339")]
    pub expires: OffsetDateTime,
    /// `sha256:` of its payload.
    pub digest: String,
    /// The key ids whose valid signatures, by keys allowed for exceptions,
    /// counted; sorted.
    pub signers: Vec<String>,
}

fn rfc3339<S: Serializer>(t: &OffsetDateTime, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

impl SignedException {
    /// Verifies the exception at `now`: refused, each with its own
    /// [`Error`], when the trust file has no `[exceptions]` table, when it
    /// is unsigned, when a signature by an allowed key does not verify,
    /// when no allowed key signed it (a key trusted only for bundles, a key
    /// not in the trust file), when fewer allowed keys signed it than the
    /// threshold, when it runs longer than `max_days`, when `issued` is
    /// later than `now` (by more than [`super::CLOCK_SKEW`]), and when it
    /// has expired (`now >= expires`).
    pub fn verify(&self, trust: &Trust, now: OffsetDateTime) -> Result<VerifiedException> {
        let exception = self.exception();
        let label = exception.label();
        let Some(rule) = trust.exceptions() else {
            return Err(Error::ExceptionsNotTrusted { exception: label });
        };
        let allowed = rule.keys.join(", ");
        let signers = self.distinct_signers();
        if signers.is_empty() {
            return Err(Error::ExceptionUnsigned {
                exception: label,
                threshold: rule.threshold,
                allowed,
            });
        }
        let mut valid = BTreeSet::new();
        for keyid in &signers {
            let Some(key) = trust
                .key(keyid)
                .filter(|k| signed::allowed(trust, keyid, k.usage.contains(&Usage::Exceptions)))
            else {
                continue;
            };
            if !self.verifies(keyid, &key.public) {
                return Err(Error::ExceptionBadSignature {
                    exception: label,
                    keyid: keyid.clone(),
                });
            }
            valid.insert(keyid.clone());
        }
        if valid.is_empty() {
            let described: Vec<String> = signers
                .iter()
                .map(|id| match trust.key(id) {
                    None => format!("{id} (not in the trust file)"),
                    Some(key) if !key.usage.contains(&Usage::Exceptions) => {
                        format!("{id} (trusted for bundles only)")
                    }
                    Some(_) => format!("{id} (not in `[exceptions] keys`)"),
                })
                .collect();
            return Err(Error::ExceptionKeyNotAllowed {
                exception: label,
                signers: described.join(", "),
                allowed,
            });
        }
        if valid.len() < rule.threshold as usize {
            return Err(Error::ExceptionThresholdNotMet {
                exception: label,
                valid: valid.len(),
                threshold: rule.threshold,
                signers: valid.into_iter().collect::<Vec<_>>().join(", "),
                allowed,
            });
        }
        let length = exception.length();
        if length > time::Duration::days(i64::from(rule.max_days)) {
            return Err(Error::ExceptionTooLong {
                exception: label,
                length: describe_length(length),
                issued: format_time(exception.issued),
                expires: format_time(exception.expires),
                max_days: rule.max_days,
            });
        }
        if exception.issued > now + super::CLOCK_SKEW {
            return Err(Error::ExceptionNotYetValid {
                exception: label,
                issued: format_time(exception.issued),
                now: format_time(now),
            });
        }
        if now >= exception.expires {
            return Err(Error::ExceptionExpired {
                exception: label,
                expires: format_time(exception.expires),
                now: format_time(now),
            });
        }
        Ok(VerifiedException {
            policy: exception.policy.clone(),
            rule: exception.rule.clone(),
            service: exception.service.clone(),
            environment: exception.environment.clone(),
            reason: exception.reason.clone(),
            ticket: exception.ticket.clone(),
            issued: exception.issued,
            expires: exception.expires,
            digest: self.digest(),
            signers: valid.into_iter().collect(),
        })
    }
}

impl VerifiedException {
    /// `Ok` when its scope is this deployment's: its service (a name or a
    /// glob) matches `service`, and its environment is `environment`, for
    /// each it names. Else why not, in words.
    pub fn applies_to(&self, service: &str, environment: &str) -> Result<(), OutOfScope> {
        scope::check(
            self.service.as_deref(),
            self.environment.as_deref(),
            service,
            environment,
        )
    }

    /// Whether it loosens `policy`'s `rule` (`None`: the policy's outcome
    /// as a whole). An exception for the whole policy covers every rule of
    /// it; one for a rule covers that rule only.
    pub fn covers(&self, policy: &str, rule: Option<&str>) -> bool {
        self.policy == policy
            && match (&self.rule, rule) {
                (None, _) => true,
                (Some(ours), Some(theirs)) => ours == theirs,
                (Some(_), None) => false,
            }
    }

    /// The exception for messages: ``exception `OPS-1234` (policy `canary`,
    /// rule `canary.error-rate`)``.
    pub fn label(&self) -> String {
        super::label(&self.ticket, &self.policy, self.rule.as_deref())
    }

    /// [`VerifiedException::applies_to`] as an [`Error`] naming the
    /// exception ([`Error::ExceptionOutOfScope`]).
    pub fn check_scope(&self, service: &str, environment: &str) -> Result<()> {
        self.applies_to(service, environment)
            .map_err(|why| Error::ExceptionOutOfScope {
                exception: self.label(),
                why: why.to_string(),
            })
    }
}
