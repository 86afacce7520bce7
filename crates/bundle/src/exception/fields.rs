//! An exception's fields, checked alike from `exception.toml` and from a
//! signed payload, and the canonical JSON payload.

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use super::Exception;

/// The longest policy, rule, service or environment name.
const MAX_NAME: usize = 128;
/// The longest ticket.
const MAX_TICKET: usize = 128;
/// The longest reason.
const MAX_REASON: usize = 2000;

/// A policy, rule or environment name: not empty, no whitespace or control
/// characters, at most [`MAX_NAME`] bytes.
pub(super) fn name(what: &str, text: String) -> Result<String, String> {
    if text.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if text.len() > MAX_NAME {
        return Err(format!(
            "a {what} of {} bytes; the most is {MAX_NAME}",
            text.len()
        ));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{text:?} is not a {what}: it has whitespace or control characters"
        ));
    }
    Ok(text)
}

/// A service: a name, or a glob of names (`payments-*`).
pub(super) fn service(text: String) -> Result<String, String> {
    let text = name("service", text)?;
    glob::Pattern::new(&text).map_err(|e| {
        format!(
            "`{text}` is not a service name or glob: {e}\n  help: such as `checkout` or `payments-*`"
        )
    })?;
    Ok(text)
}

/// A reason or a ticket: not blank, no control characters, at most `max`
/// bytes.
fn text(what: &str, text: String, max: usize) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "an exception needs a {what}, and this one is empty"
        ));
    }
    if text.len() > max {
        return Err(format!(
            "a {what} of {} bytes; the most is {max}",
            text.len()
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(format!(
            "the {what} has control characters (a line break, a tab, …)"
        ));
    }
    Ok(text)
}

/// The reason.
pub(super) fn reason(value: String) -> Result<String, String> {
    text("reason", value, MAX_REASON)
}

/// The ticket.
pub(super) fn ticket(value: String) -> Result<String, String> {
    text("ticket", value, MAX_TICKET)
}

/// An RFC 3339 time with an offset, to the second, in UTC.
pub(super) fn time(text: &str) -> Result<OffsetDateTime, String> {
    let at = crate::verify::parse_time(text).map_err(|_| {
        format!(
            "`{text}` is not an RFC 3339 time\n  help: write a date, time and offset, such as `2027-01-15T00:00:00Z`"
        )
    })?;
    if at.nanosecond() != 0 {
        return Err(format!(
            "`{text}` has a fraction of a second\n  help: give the time to the second, such as `2027-01-15T00:00:00Z`"
        ));
    }
    Ok(at.to_offset(UtcOffset::UTC))
}

/// What holds for the fields together: a scope, and `expires` after
/// `issued`. The key the error is about, and why.
pub(super) fn together(exception: &Exception) -> Result<(), (&'static str, String)> {
    if exception.service.is_none() && exception.environment.is_none() {
        return Err((
            "service",
            "an exception needs a scope: `service`, `environment` or both\n  help: an exception for every deployment would switch the policy off; name the service (or a glob such as `payments-*`) and the environment it is for".into(),
        ));
    }
    if exception.expires <= exception.issued {
        return Err((
            "expires",
            format!(
                "{} is not after `issued` ({})",
                super::format_time(exception.expires),
                super::format_time(exception.issued)
            ),
        ));
    }
    Ok(())
}

/// The payload, field by field, in its fixed order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    environment: Option<String>,
    reason: String,
    ticket: String,
    issued: String,
    expires: String,
}

/// The canonical JSON of `exception`: the fields in a fixed order, absent
/// ones left out, times RFC 3339 in UTC, no whitespace.
pub(super) fn to_payload(exception: &Exception) -> Vec<u8> {
    let payload = Payload {
        policy: exception.policy.clone(),
        rule: exception.rule.clone(),
        service: exception.service.clone(),
        environment: exception.environment.clone(),
        reason: exception.reason.clone(),
        ticket: exception.ticket.clone(),
        issued: super::format_time(exception.issued),
        expires: super::format_time(exception.expires),
    };
    // Only strings: serializing cannot fail.
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// An error about the payload's `key`.
fn field(key: &'static str) -> impl Fn(String) -> String {
    move |e| format!("its payload's `{key}`: {e}")
}

/// The exception of a payload, checked as a source is, which must be
/// canonical (so that one exception has one digest).
pub(super) fn from_payload(bytes: &[u8]) -> Result<Exception, String> {
    let payload: Payload = serde_json::from_slice(bytes)
        .map_err(|e| format!("its payload is not an exception: {e}"))?;
    let exception = Exception {
        policy: name("policy", payload.policy).map_err(field("policy"))?,
        rule: payload
            .rule
            .map(|r| name("rule", r))
            .transpose()
            .map_err(field("rule"))?,
        service: payload
            .service
            .map(service)
            .transpose()
            .map_err(field("service"))?,
        environment: payload
            .environment
            .map(|e| name("environment", e))
            .transpose()
            .map_err(field("environment"))?,
        reason: reason(payload.reason).map_err(field("reason"))?,
        ticket: ticket(payload.ticket).map_err(field("ticket"))?,
        issued: time(&payload.issued).map_err(field("issued"))?,
        expires: time(&payload.expires).map_err(field("expires"))?,
    };
    together(&exception).map_err(|(key, e)| field(key)(e))?;
    if to_payload(&exception) != bytes {
        return Err(
            "its payload is not in canonical form (fields in order, UTC times, no whitespace)"
                .into(),
        );
    }
    Ok(exception)
}
