//! `[sources.junit]`.

use serde::Deserialize;

use crate::config::Duration;

/// `[sources.junit]`.
///
/// ```toml
/// [sources.junit]
/// paths = ["target/junit/*.xml"]
/// smoke = ["reports/smoke/*.xml"]   # suites tagged `smoke`, for `verify`
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JunitConfig {
    /// Globs of report files, relative to the configuration's directory
    /// (e.g. `"target/junit/*.xml"`). At least one of `paths` and `smoke`
    /// is required: no default.
    pub paths: Vec<String>,
    /// Globs of the reports of smoke tests run against the deployed
    /// service (e.g. `"reports/smoke/*.xml"`): their suites are tagged
    /// `smoke = true`, which the `verify` stage judges. A file that both
    /// lists match is a smoke report. Default none.
    pub smoke: Vec<String>,
    /// How long the source may take; default 10 s.
    pub timeout: Option<Duration>,
}
