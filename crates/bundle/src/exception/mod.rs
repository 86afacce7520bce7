//! Signed exceptions: the only way to loosen an org policy, for a while,
//! for some deployments, with a reason on record.
//!
//! An exception's source is `exception.toml`:
//!
//! ```toml
//! policy = "canary"                  # the policy it loosens
//! rule = "canary.error-rate"         # optional: one rule; absent = the whole policy
//! service = "checkout"               # the scope: a service (a glob such as `payments-*`),
//! environment = "production"         #   an environment, or both; at least one
//! reason = "error budget spent on a known flaky dependency; fix in OPS-1234"
//! ticket = "OPS-1234"
//! issued = 2027-01-01T00:00:00Z      # RFC 3339 with an offset (a TOML datetime or a string)
//! expires = 2027-01-15T00:00:00Z     # after `issued`; at most `[exceptions] max_days` later
//! ```
//!
//! read with located errors ([`Exception::load`]). Signed, it is a JSON
//! DSSE envelope, `NAME.exception` ([`SignedException`]): payload type
//! [`crate::media::EXCEPTION`], the payload the exception as canonical JSON
//! (fields in the order above, absent ones left out, times RFC 3339 in
//! UTC to the second), and one signature per key over the DSSE PAE. Its
//! **digest** is the sha256 of the payload: what reports and logs name,
//! the same however many keys sign.
//!
//! [`SignedException::verify`] checks it against the trust file's
//! `[exceptions]` table ([`crate::trust::ExceptionRule`]) and the clock;
//! a [`VerifiedException`] then says whether it
//! [applies to](VerifiedException::applies_to) a deployment and which
//! policy or rule it [covers](VerifiedException::covers).
//!
//! ```
//! use shipgate_bundle::exception::{Exception, SignedException};
//! use shipgate_bundle::{Trust, keys::PrivateKey};
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exception = Exception::parse(
//!     "policy = \"canary\"\nrule = \"canary.error-rate\"\nservice = \"checkout\"\n\
//!      environment = \"production\"\nreason = \"flaky dependency\"\nticket = \"OPS-1234\"\n\
//!      issued = 2027-01-01T00:00:00Z\nexpires = 2027-01-15T00:00:00Z\n",
//!     "exception.toml",
//! )?;
//! let key = PrivateKey::generate()?;
//! let mut signed = SignedException::new(exception);
//! signed.sign(&key)?;
//!
//! let trust = Trust::parse(
//!     &format!(
//!         "[[keys]]\nid = \"{}\"\npublic = \"{}\"\nusage = [\"exceptions\"]\n[exceptions]\nkeys = [\"{0}\"]\n",
//!         key.id(),
//!         key.public_base64()
//!     ),
//!     "trust.toml",
//! )?;
//! let verified = signed.verify(&trust, datetime!(2027-01-02 00:00 UTC))?;
//! assert_eq!(verified.digest, signed.digest());
//! assert!(verified.covers("canary", Some("canary.error-rate")));
//! assert!(verified.applies_to("checkout", "production").is_ok());
//! let why = verified.applies_to("payments", "production").unwrap_err();
//! assert_eq!(why.to_string(), "its service is `checkout`, this deployment's is `payments`");
//! # Ok(())
//! # }
//! ```

mod fields;
mod scope;
mod signed;
mod source;
mod verify;

#[cfg(test)]
mod tests;

use shipgate_core::bounded::Cap;
use time::OffsetDateTime;

pub use scope::OutOfScope;
pub use signed::SignedException;
pub use verify::VerifiedException;

/// The extension of a signed exception's file (`OPS-1234.exception`).
pub const EXTENSION: &str = "exception";

/// The clock skew allowed for `issued`: an exception issued up to this much
/// after now is already valid.
pub const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// The cap of `exception.toml`.
pub const SOURCE_CAP: Cap = Cap {
    what: "an exception source",
    bytes: 64 * 1024,
};

/// The cap of a signed exception (`NAME.exception`).
pub const SIGNED_CAP: Cap = Cap {
    what: "a signed exception",
    bytes: 64 * 1024,
};

/// The most signatures one exception holds.
pub const MAX_SIGNATURES: usize = crate::caps::MAX_SIGNATURES;

/// What an exception says: what it loosens, where, why, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The policy it loosens.
    pub policy: String,
    /// The one rule it loosens; `None`: the whole policy.
    pub rule: Option<String>,
    /// The services it applies to: a name or a glob (`payments-*`); `None`:
    /// every service (of `environment`).
    pub service: Option<String>,
    /// The environment it applies to; `None`: every environment (of
    /// `service`).
    pub environment: Option<String>,
    /// Why, for people.
    pub reason: String,
    /// The ticket that tracks it.
    pub ticket: String,
    /// When it starts, UTC, to the second.
    pub issued: OffsetDateTime,
    /// When it ends (excluded), UTC, to the second.
    pub expires: OffsetDateTime,
}

impl Exception {
    /// The exception for messages: ``exception `OPS-1234` (policy `canary`,
    /// rule `canary.error-rate`)``.
    pub fn label(&self) -> String {
        label(&self.ticket, &self.policy, self.rule.as_deref())
    }

    /// How long it runs: `expires - issued`.
    pub fn length(&self) -> time::Duration {
        self.expires - self.issued
    }
}

/// ``exception `TICKET` (policy `P`, rule `R`)``.
fn label(ticket: &str, policy: &str, rule: Option<&str>) -> String {
    match rule {
        Some(rule) => format!("exception `{ticket}` (policy `{policy}`, rule `{rule}`)"),
        None => format!("exception `{ticket}` (policy `{policy}`, all its rules)"),
    }
}

/// A duration for people: `14 days`, `30 days 6 hours`, `45 minutes`.
pub fn describe_length(length: time::Duration) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let days = length.whole_days();
    let hours = length.whole_hours() - days * 24;
    let minutes = length.whole_minutes() - length.whole_hours() * 60;
    let mut parts = Vec::new();
    if days != 0 {
        parts.push(plural(days, "day"));
    }
    if hours != 0 {
        parts.push(plural(hours, "hour"));
    }
    if minutes != 0 || parts.is_empty() {
        parts.push(plural(minutes, "minute"));
    }
    parts.join(" ")
}

/// `t` as RFC 3339 (UTC times end in `Z`).
pub fn format_time(t: OffsetDateTime) -> String {
    crate::verify::format_time(t)
}
