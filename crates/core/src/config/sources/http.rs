//! `[sources.http]`: HTTP health probes of the deployed service, the
//! evidence of the `verify` stage.
//!
//! ```toml
//! [sources.http]
//! timeout = "2s"     # each request; default 5s, 1ms to 1m
//! retries = 1        # a failed round is tried again this often; default 0, at most 10
//! count = 3          # rounds per probe; default 1, 1 to 100
//! interval = "5s"    # between rounds; default 1s, 0s to 10m
//!
//! [[sources.http.probes]]
//! name = "api-health"
//! url = "https://checkout.internal/healthz"
//! expected_status = 200                      # the default; 100 to 599
//! body_contains = "ok"                       # or body_regex = '"status"\s*:\s*"UP"'
//! header_env = { Authorization = "CHECKOUT_HEALTH_AUTH" }
//! ```
//!
//! Every value is checked at load and an error names its file, line and
//! key. Besides each value's own range, the worst case of one probe,
//! `count × (1 + retries) × timeout + (count − 1) × interval`, must be at
//! most [`MAX_TOTAL`] (an hour).
//!
//! **Secrets.** A header's value is read from the environment variable
//! `header_env` names, when the probes run; the file holds only the name,
//! and an error never quotes a value written where a name belongs (it may
//! be the secret itself). A URL with credentials (`https://user:pass@host`)
//! is refused: a password written into the configuration is a secret in a
//! file that is committed, and the probe's URL is copied into the snapshot;
//! send credentials with `header_env` (e.g. `Authorization = "HEALTH_AUTH"`
//! where `HEALTH_AUTH` holds `Basic …` or `Bearer …`). The refusal does
//! not quote the credentials.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

use crate::config::Duration;

/// The most probes `[sources.http]` may list: they run concurrently, every
/// collection.
pub const MAX_PROBES: usize = 50;

/// The most time one probe's rounds may take, tries and waits included.
pub const MAX_TOTAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The most a `body_regex` may compile to, in bytes (the `regex` crate's
/// size limit): a pattern is configuration, but a typo such as `\w{1000}`
/// should be an error, not megabytes of automaton.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// `[sources.http]`.
// `remote = "Self"`: the derived code is an inherent `deserialize`, which
// the `Deserialize` impl below calls before it checks the worst-case time
// and the probes' names across entries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, remote = "Self")]
pub struct HttpConfig {
    /// How long one request may take, body included; default 5s, 1ms to 1m.
    #[serde(default = "default_timeout", deserialize_with = "timeout")]
    pub timeout: Duration,
    /// How often a failed round is tried again (a try that finds the
    /// endpoint healthy ends the round); default 0, at most 10.
    #[serde(default, deserialize_with = "retries")]
    pub retries: u32,
    /// Rounds per probe, each one result; default 1, 1 to 100.
    #[serde(default = "default_count", deserialize_with = "count")]
    pub count: u32,
    /// The wait between a probe's rounds; default 1s, 0s to 10m.
    #[serde(default = "default_interval", deserialize_with = "interval")]
    pub interval: Duration,
    /// `[[sources.http.probes]]`: at least one, names unique.
    #[serde(default)]
    pub probes: Vec<ProbeConfig>,
}

/// `[[sources.http.probes]]`: one endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeConfig {
    /// Its name, unique, as policies see it (`api-health`): 1 to 100
    /// characters, no control characters.
    #[serde(deserialize_with = "probe_name")]
    pub name: String,
    /// The URL asked with `GET`: http:// or https://, with a host, no
    /// credentials. A query is sent but not copied into the snapshot.
    #[serde(deserialize_with = "probe_url")]
    pub url: String,
    /// The status a healthy endpoint answers; default 200, 100 to 599.
    /// Redirects are not followed: a `302` to a login page is a `302`.
    #[serde(default = "default_status", deserialize_with = "status")]
    pub expected_status: u16,
    /// A healthy answer's body contains this text (byte for byte, case
    /// sensitive); default none. At most one of `body_contains` and
    /// `body_regex`.
    #[serde(default, deserialize_with = "body_contains")]
    pub body_contains: Option<String>,
    /// A healthy answer's body matches this regular expression (the
    /// `regex` crate's syntax, unanchored: add `^…$` to match it whole);
    /// default none.
    #[serde(default, deserialize_with = "body_regex")]
    pub body_regex: Option<String>,
    /// Headers to send, by header name, each the NAME of the environment
    /// variable that holds its value (never the value); default none. An
    /// unset or empty variable stops the source (a gap) before any request.
    #[serde(default, deserialize_with = "header_env")]
    pub header_env: BTreeMap<String, String>,
}

impl HttpConfig {
    /// The longest one probe can take: every try timing out, every wait.
    pub fn worst_case(&self) -> std::time::Duration {
        let tries = self.count.saturating_mul(self.retries.saturating_add(1));
        self.timeout
            .0
            .saturating_mul(tries)
            .saturating_add(self.interval.0.saturating_mul(self.count.saturating_sub(1)))
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            timeout: default_timeout(),
            retries: 0,
            count: default_count(),
            interval: default_interval(),
            probes: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for HttpConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The derived, field-by-field reading (`remote = "Self"`).
        let config = HttpConfig::deserialize(deserializer)?;
        if config.probes.is_empty() {
            return Err(serde::de::Error::custom(
                "no probes: add at least one [[sources.http.probes]] with a `name` and a `url`",
            ));
        }
        if config.probes.len() > MAX_PROBES {
            return Err(serde::de::Error::custom(format!(
                "{} probes: at most {MAX_PROBES} (each runs at once, every collection)",
                config.probes.len()
            )));
        }
        for (i, probe) in config.probes.iter().enumerate() {
            if let Some(first) = config.probes[..i].iter().position(|p| p.name == probe.name) {
                return Err(serde::de::Error::custom(format!(
                    "the probe name `{}` is used twice (probes[{first}] and probes[{i}])",
                    probe.name
                )));
            }
            if probe.body_contains.is_some() && probe.body_regex.is_some() {
                return Err(serde::de::Error::custom(format!(
                    "probe `{}` sets both `body_contains` and `body_regex`; keep one",
                    probe.name
                )));
            }
        }
        let worst = config.worst_case();
        if worst > MAX_TOTAL {
            return Err(serde::de::Error::custom(format!(
                "a probe may take up to {} (count × (1 + retries) × timeout + (count − 1) × interval), more than {}; lower `count`, `retries`, `timeout` or `interval`",
                humantime::format_duration(worst),
                humantime::format_duration(MAX_TOTAL)
            )));
        }
        Ok(config)
    }
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_count() -> u32 {
    1
}

fn default_interval() -> Duration {
    Duration::from_secs(1)
}

fn default_status() -> u16 {
    200
}

/// A duration from `min` to `max`, in the words of the other ranges
/// (`ranges.rs`).
fn duration_in<'de, D: Deserializer<'de>>(
    deserializer: D,
    min: std::time::Duration,
    max: std::time::Duration,
) -> Result<Duration, D::Error> {
    let duration = Duration::deserialize(deserializer)?;
    if !(min..=max).contains(&duration.0) {
        return Err(serde::de::Error::custom(format!(
            "duration `{duration}` is out of range, expected `{}` to `{}`",
            humantime::format_duration(min),
            humantime::format_duration(max)
        )));
    }
    Ok(duration)
}

/// An integer from `min` to `max`.
fn integer_in<'de, D: Deserializer<'de>>(
    deserializer: D,
    min: i64,
    max: i64,
) -> Result<i64, D::Error> {
    let value = i64::deserialize(deserializer)?;
    if !(min..=max).contains(&value) {
        return Err(serde::de::Error::custom(format!(
            "integer `{value}` is out of range, expected `{min}` to `{max}`"
        )));
    }
    Ok(value)
}

fn timeout<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    duration_in(
        deserializer,
        std::time::Duration::from_millis(1),
        std::time::Duration::from_secs(60),
    )
}

fn interval<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    duration_in(
        deserializer,
        std::time::Duration::ZERO,
        std::time::Duration::from_secs(600),
    )
}

fn retries<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    // In range, so the conversions cannot fail.
    integer_in(deserializer, 0, 10).map(|v| u32::try_from(v).unwrap_or_default())
}

fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    integer_in(deserializer, 1, 100).map(|v| u32::try_from(v).unwrap_or(1))
}

fn status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    integer_in(deserializer, 100, 599).map(|v| u16::try_from(v).unwrap_or(200))
}

/// `name`: 1 to 100 characters, none a control character.
fn probe_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = String::deserialize(deserializer)?;
    if name.trim().is_empty() {
        return Err(serde::de::Error::custom("the probe's name is empty"));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(serde::de::Error::custom(format!(
            "the probe name `{}` is longer than 100 characters or holds a control character",
            crate::escape::escape_line(&name)
        )));
    }
    Ok(name)
}

/// `url`: http:// or https://, a host, no credentials.
fn probe_url<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let url = String::deserialize(deserializer)?;
    check_probe_url(&url).map_err(serde::de::Error::custom)?;
    Ok(url.trim().to_owned())
}

/// Why `url` cannot be a probe's URL; the message never quotes
/// credentials.
pub fn check_probe_url(url: &str) -> Result<url::Url, String> {
    let text = url.trim();
    let parsed = url::Url::parse(text).map_err(|e| {
        // Text with an `@` may hold credentials that did not parse: not
        // quoted.
        if text.contains('@') {
            format!("`url` is not a URL ({e}); write e.g. \"https://checkout.internal/healthz\"")
        } else {
            format!(
                "`url` is not a URL ({e}): `{}`",
                crate::escape::escape_line(text)
            )
        }
    })?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "`url` has credentials (`{}`); they would be a secret in this file and in the snapshot: send them in a header with `header_env` instead",
            shown_url(&parsed)
        ));
    }
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        // `user:password@host` without a scheme parses as the scheme
        // `user`: quoted whole, it would show the password.
        let got = if text.contains('@') {
            format!("the scheme `{}`", parsed.scheme())
        } else {
            format!("`{}`", crate::escape::escape_line(text))
        };
        return Err(format!(
            "`url` must be an http:// or https:// URL with a host, got {got}"
        ));
    }
    Ok(parsed)
}

/// `url` as a snapshot shows it: no credentials, no query, no fragment.
pub fn shown_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// `body_contains`: not empty (an empty text matches every body).
fn body_contains<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() {
        return Err(serde::de::Error::custom(
            "`body_contains` is empty, which every body contains; remove it or write the text a healthy answer holds",
        ));
    }
    Ok(Some(text))
}

/// `body_regex`: a regular expression that compiles within
/// [`REGEX_SIZE_LIMIT`].
fn body_regex<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let pattern = String::deserialize(deserializer)?;
    compile_body_regex(&pattern).map_err(serde::de::Error::custom)?;
    Ok(Some(pattern))
}

/// `pattern` compiled as a probe's `body_regex`, or why not (one line).
pub fn compile_body_regex(pattern: &str) -> Result<regex::bytes::Regex, String> {
    if pattern.is_empty() {
        return Err(
            "`body_regex` is empty, which every body matches; remove it or write what a healthy answer holds"
                .into(),
        );
    }
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let why = e.to_string();
            let why = why.lines().last().unwrap_or_default().trim().to_owned();
            format!(
                "`body_regex` is not a regular expression: {}",
                crate::escape::escape_line(&why)
            )
        })
}

/// `header_env`: header names as HTTP writes them, each with an
/// environment variable's name. The message about a bad variable name does
/// not quote it: it may be the header's value, written where its name
/// belongs.
fn header_env<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let headers = BTreeMap::<String, String>::deserialize(deserializer)?;
    for (header, var) in &headers {
        if !is_header_name(header) {
            return Err(serde::de::Error::custom(format!(
                "`{}` is not an HTTP header name (letters, digits and `!#$%&'*+-.^_|~`)",
                crate::escape::escape_line(header)
            )));
        }
        if matches!(
            header.to_ascii_lowercase().as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection"
        ) {
            return Err(serde::de::Error::custom(format!(
                "the header `{header}` is set by the HTTP client; remove it"
            )));
        }
        if !is_variable_name(var) {
            return Err(serde::de::Error::custom(format!(
                "the value for the header `{header}` must be the NAME of an environment variable (letters, digits and `_`, not starting with a digit) that holds the header's value, never the value itself"
            )));
        }
    }
    Ok(headers)
}

/// An HTTP field name (RFC 9110's `token`).
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_variable_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    use super::*;

    /// A file with `[sources.http]` = `table` and one probe `api` whose
    /// table ends with `probe`.
    fn file(table: &str, probe: &str) -> String {
        format!(
            "[sources.http]\n{table}\n[[sources.http.probes]]\nname = \"api\"\nurl = \"http://127.0.0.1:8080/healthz\"\n{probe}"
        )
    }

    fn error(text: &str) -> String {
        match Config::parse(text, Path::new("shipgate.toml")) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn a_full_table_parses_and_defaults_are_filled() {
        let config = Config::parse(
            &file(
                "timeout = \"2s\"\nretries = 1\ncount = 3\ninterval = \"5s\"",
                "expected_status = 204\nbody_regex = '\"status\"\\s*:\\s*\"UP\"'\nheader_env = { Authorization = \"HEALTH_AUTH\" }\n\
                 [[sources.http.probes]]\nname = \"web\"\nurl = \"https://web.internal/\"\n",
            ),
            Path::new("shipgate.toml"),
        )
        .unwrap();
        let http = config.sources.http.unwrap();
        assert_eq!(
            (http.timeout, http.retries, http.count, http.interval),
            (Duration::from_secs(2), 1, 3, Duration::from_secs(5))
        );
        assert_eq!(http.probes[0].expected_status, 204);
        assert_eq!(http.probes[0].header_env["Authorization"], "HEALTH_AUTH");
        let web = &http.probes[1];
        assert_eq!(
            (web.expected_status, &web.body_contains, &web.body_regex),
            (200, &None, &None)
        );
        let defaults = Config::parse(&file("", ""), Path::new("shipgate.toml"))
            .unwrap()
            .sources
            .http
            .unwrap();
        assert_eq!(
            (
                defaults.timeout,
                defaults.retries,
                defaults.count,
                defaults.interval
            ),
            (Duration::from_secs(5), 0, 1, Duration::from_secs(1))
        );
    }

    #[test]
    fn every_value_is_range_checked_at_its_key() {
        let cases = [
            (
                file("timeout = \"0s\"", ""),
                "shipgate.toml:2:11: key `sources.http.timeout`: duration `0s` is out of range, expected `1ms` to `1m`",
            ),
            (
                file("interval = \"11m\"", ""),
                "shipgate.toml:2:12: key `sources.http.interval`: duration `11m` is out of range, expected `0s` to `10m`",
            ),
            (
                file("retries = 11", ""),
                "shipgate.toml:2:11: key `sources.http.retries`: integer `11` is out of range, expected `0` to `10`",
            ),
            (
                file("count = 0", ""),
                "shipgate.toml:2:9: key `sources.http.count`: integer `0` is out of range, expected `1` to `100`",
            ),
            (
                file("", "expected_status = 600\n"),
                "shipgate.toml:6:19: key `sources.http.probes[0].expected_status`: integer `600` is out of range, expected `100` to `599`",
            ),
            (
                file("", "expected_status = 99\n"),
                "shipgate.toml:6:19: key `sources.http.probes[0].expected_status`: integer `99` is out of range, expected `100` to `599`",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(error(&text), expected, "{text}");
        }
    }

    #[test]
    fn the_worst_case_of_a_probe_is_at_most_an_hour() {
        let err = error(&file(
            "timeout = \"1m\"\nretries = 10\ncount = 10\ninterval = \"10s\"",
            "",
        ));
        assert_eq!(
            err,
            "shipgate.toml:1:1: key `sources.http`: a probe may take up to 1h 51m 30s (count × (1 + retries) × timeout + (count − 1) × interval), more than 1h; lower `count`, `retries`, `timeout` or `interval`"
        );
    }

    #[test]
    fn url_credentials_are_refused_without_quoting_them() {
        for url in [
            "https://deploy:hunter2-pw@checkout.internal/healthz",
            "https://tok3n-only@checkout.internal/healthz",
        ] {
            let err = error(&format!(
                "[sources.http]\n[[sources.http.probes]]\nname = \"api\"\nurl = \"{url}\"\n"
            ));
            assert_eq!(
                err,
                "shipgate.toml:4:7: key `sources.http.probes[0].url`: `url` has credentials (`https://checkout.internal/healthz`); they would be a secret in this file and in the snapshot: send them in a header with `header_env` instead"
            );
        }
        // Without a scheme, `user:password@host` reads as the scheme
        // `user`; and text that is no URL at all: neither is quoted.
        let probe = |url: &str| {
            error(&format!(
                "[sources.http]\n[[sources.http.probes]]\nname = \"api\"\nurl = \"{url}\"\n"
            ))
        };
        let err = probe("deploy:hunter2-pw@checkout");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(
            err.ends_with(
                "`url` must be an http:// or https:// URL with a host, got the scheme `deploy`"
            ),
            "{err}"
        );
        let err = probe("://deploy:hunter2-pw@checkout");
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("`url` is not a URL ("), "{err}");
    }

    #[test]
    fn a_url_must_be_http_with_a_host() {
        assert_eq!(
            error(&file("", "").replace("http://127.0.0.1:8080/healthz", "ftp://x/healthz")),
            "shipgate.toml:5:7: key `sources.http.probes[0].url`: `url` must be an http:// or https:// URL with a host, got `ftp://x/healthz`"
        );
        assert_eq!(
            error(&file("", "").replace("http://127.0.0.1:8080/healthz", "/healthz")),
            "shipgate.toml:5:7: key `sources.http.probes[0].url`: `url` is not a URL (relative URL without a base): `/healthz`"
        );
    }

    #[test]
    fn a_header_value_written_where_its_variable_belongs_is_not_quoted() {
        let err = error(&file(
            "",
            "header_env = { Authorization = \"Bearer s3cr3t-t0ken\" }\n",
        ));
        assert!(!err.contains("s3cr3t"), "{err}");
        assert_eq!(
            err,
            "shipgate.toml:6:14: key `sources.http.probes[0].header_env`: the value for the header `Authorization` must be the NAME of an environment variable (letters, digits and `_`, not starting with a digit) that holds the header's value, never the value itself"
        );
        assert!(
            error(&file("", "header_env = { \"Bad Header\" = \"X\" }\n")).ends_with(
                "`Bad Header` is not an HTTP header name (letters, digits and `!#$%&'*+-.^_|~`)"
            )
        );
        assert!(
            error(&file("", "header_env = { Host = \"X\" }\n"))
                .ends_with("the header `Host` is set by the HTTP client; remove it")
        );
    }

    #[test]
    fn probes_are_named_once_and_match_one_way() {
        let many: String = (0..=MAX_PROBES)
            .map(|i| format!("[[sources.http.probes]]\nname = \"p{i}\"\nurl = \"http://x/\"\n"))
            .collect();
        assert!(
            error(&format!("[sources.http]\n{many}"))
                .ends_with("51 probes: at most 50 (each runs at once, every collection)"),
            "{}",
            error(&format!("[sources.http]\n{many}"))
        );
        assert_eq!(
            error("[sources.http]\ntimeout = \"1s\"\n"),
            "shipgate.toml:1:1: key `sources.http`: no probes: add at least one [[sources.http.probes]] with a `name` and a `url`"
        );
        let twice = format!(
            "{}[[sources.http.probes]]\nname = \"api\"\nurl = \"http://x/\"\n",
            file("", "")
        );
        assert!(
            error(&twice).ends_with(
                "key `sources.http`: the probe name `api` is used twice (probes[0] and probes[1])"
            ),
            "{}",
            error(&twice)
        );
        assert!(
            error(&file("", "body_contains = \"ok\"\nbody_regex = \"ok\"\n"))
                .ends_with("probe `api` sets both `body_contains` and `body_regex`; keep one")
        );
        assert!(
            error(&file("", "body_contains = \"\"\n")).starts_with(
                "shipgate.toml:6:17: key `sources.http.probes[0].body_contains`: `body_contains` is empty"
            )
        );
        let err = error(&file("", "body_regex = \"(unclosed\"\n"));
        assert!(
            err.starts_with("shipgate.toml:6:14: key `sources.http.probes[0].body_regex`: `body_regex` is not a regular expression: "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
        assert!(
            error(&file("", "name2 = 1\n")).contains("unknown key `name2`"),
            "{}",
            error(&file("", "name2 = 1\n"))
        );
        assert!(
            error(&file("", "").replace("name = \"api\"", "name = \"\""))
                .ends_with("the probe's name is empty")
        );
    }

    #[test]
    fn the_snapshot_url_has_no_query_or_fragment() {
        let url = check_probe_url("https://checkout.internal:8443/healthz?token=abc#frag").unwrap();
        assert_eq!(shown_url(&url), "https://checkout.internal:8443/healthz");
    }
}
