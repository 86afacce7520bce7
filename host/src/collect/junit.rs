//! The `junit` source: test suites and counts from JUnit XML reports.
//!
//! (stub: being written)

use serde::Deserialize;
use shipgate_model::TestSuite;

use super::support::{Context, SourceError};

/// `[sources.junit]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JunitConfig {
    /// Globs of report files, relative to the configuration's directory.
    pub paths: Vec<String>,
    /// How long the source may take.
    pub timeout: Option<super::support::Duration>,
}

/// Reads the reports. Blocking: reads files.
pub fn collect(config: &JunitConfig, ctx: &Context) -> Result<Vec<TestSuite>, SourceError> {
    let _ = (config, ctx);
    Err(SourceError::new("the junit source is not written yet"))
}
