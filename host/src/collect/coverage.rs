//! The `coverage` source: line coverage from a Cobertura XML or an LCOV file.
//!
//! (stub: being written)

use serde::Deserialize;

use super::support::{Context, SourceError};

/// `[sources.coverage]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoverageConfig {
    /// The report file.
    pub path: Option<std::path::PathBuf>,
    /// How long the source may take.
    pub timeout: Option<super::support::Duration>,
}

/// Reads line coverage in percent (0–100). Blocking: reads a file.
pub fn collect(config: &CoverageConfig, ctx: &Context) -> Result<f64, SourceError> {
    let _ = (config, ctx);
    Err(SourceError::new("the coverage source is not written yet"))
}
