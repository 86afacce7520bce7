//! `[sources.coverage]`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::Duration;

/// `[sources.coverage]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoverageConfig {
    /// The report file, relative to the configuration's directory (e.g.
    /// `"coverage/cobertura.xml"`). Required: no default.
    pub path: Option<PathBuf>,
    /// The report's format; default: recognised from the content.
    pub format: Option<CoverageFormat>,
    /// How long the source may take; default 10 s.
    pub timeout: Option<Duration>,
}

/// A coverage report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CoverageFormat {
    /// Cobertura XML (`coverage.py xml`, `cargo llvm-cov --cobertura`,
    /// JaCoCo and Istanbul converters).
    Cobertura,
    /// LCOV tracefile (`lcov`, `cargo llvm-cov --lcov`, Istanbul, c8).
    Lcov,
}
