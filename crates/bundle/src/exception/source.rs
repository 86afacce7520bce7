//! `exception.toml`, read with located errors (`exception.toml:3:8: key
//! `rule`: …`).

use std::path::Path;

use serde::{Deserialize, Deserializer};
use shipgate_core::config::TomlFile;
use time::OffsetDateTime;

use super::{Exception, fields};
use crate::error::{Error, Result};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    #[serde(default, deserialize_with = "policy")]
    policy: Option<String>,
    #[serde(default, deserialize_with = "rule")]
    rule: Option<String>,
    #[serde(default, deserialize_with = "service")]
    service: Option<String>,
    #[serde(default, deserialize_with = "environment")]
    environment: Option<String>,
    #[serde(default, deserialize_with = "reason")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "ticket")]
    ticket: Option<String>,
    #[serde(default, deserialize_with = "time")]
    issued: Option<OffsetDateTime>,
    #[serde(default, deserialize_with = "time")]
    expires: Option<OffsetDateTime>,
}

fn checked<'de, D: Deserializer<'de>, T>(
    d: D,
    check: impl FnOnce(String) -> std::result::Result<T, String>,
) -> std::result::Result<T, D::Error> {
    check(String::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn policy<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    checked(d, |t| fields::name("policy", t).map(Some))
}

fn rule<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    checked(d, |t| fields::name("rule", t).map(Some))
}

fn service<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    checked(d, |t| fields::service(t).map(Some))
}

fn environment<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    checked(d, |t| fields::name("environment", t).map(Some))
}

fn reason<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    checked(d, |t| fields::reason(t).map(Some))
}

fn ticket<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    checked(d, |t| fields::ticket(t).map(Some))
}

fn time<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<OffsetDateTime>, D::Error> {
    checked(d, |t| fields::time(&t).map(Some))
}

impl Exception {
    /// Reads `exception.toml` (at most [`super::SOURCE_CAP`]).
    pub fn load(path: &Path) -> Result<Exception> {
        let text = shipgate_core::bounded::read_file_to_string(path, super::SOURCE_CAP).map_err(
            |error| Error::Read {
                path: path.to_owned(),
                error,
            },
        )?;
        Exception::parse(&text, &path.display().to_string())
    }

    /// Checks an exception source's text; `file` is what errors call it.
    /// Every error is located (file, line, column, key).
    pub fn parse(text: &str, file: &str) -> Result<Exception> {
        let toml = TomlFile::new(file, text);
        let source: Source = toml.parse()?;
        let missing = |key: &str, example: &str| {
            let mut error = toml.key_error(key, &format!("missing required key `{key}`"));
            error.key = None;
            error.help = Some(format!("add `{key} = {example}`"));
            error
        };
        let exception = Exception {
            policy: source
                .policy
                .ok_or_else(|| missing("policy", "\"canary\""))?,
            rule: source.rule,
            service: source.service,
            environment: source.environment,
            reason: source
                .reason
                .ok_or_else(|| missing("reason", "\"why the policy must give way, for now\""))?,
            ticket: source
                .ticket
                .ok_or_else(|| missing("ticket", "\"OPS-1234\""))?,
            issued: source
                .issued
                .ok_or_else(|| missing("issued", "2027-01-01T00:00:00Z"))?,
            expires: source
                .expires
                .ok_or_else(|| missing("expires", "2027-01-15T00:00:00Z"))?,
        };
        fields::together(&exception).map_err(|(key, message)| {
            let mut error = toml.key_error(key, &message);
            if let Some((message, help)) = message.split_once("\n  help: ") {
                error.message = message.to_owned();
                error.help = Some(help.to_owned());
            }
            if error.line == 0 {
                // Not in the file (a missing scope): about the file, not a key.
                error.key = None;
            }
            error
        })?;
        Ok(exception)
    }

    /// The canonical JSON payload a signature covers (see the module
    /// documentation).
    pub fn to_payload(&self) -> Vec<u8> {
        fields::to_payload(self)
    }

    /// The exception of a signed payload, checked as a source is; the
    /// payload must be canonical ([`Exception::to_payload`] of what it
    /// says). `Err` says what is wrong.
    pub fn from_payload(bytes: &[u8]) -> std::result::Result<Exception, String> {
        fields::from_payload(bytes)
    }
}
