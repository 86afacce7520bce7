//! `[sources.junit]`.

use serde::Deserialize;

use crate::config::Duration;

/// `[sources.junit]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JunitConfig {
    /// Globs of report files, relative to the configuration's directory
    /// (e.g. `"target/junit/*.xml"`). Required: no default.
    pub paths: Vec<String>,
    /// How long the source may take; default 10 s.
    pub timeout: Option<Duration>,
}
