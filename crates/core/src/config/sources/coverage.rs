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

shipgate_model::wire_enum! {
    /// A coverage report format.
    pub CoverageFormat("coverage format") {
        /// Cobertura XML (`coverage.py xml`, `cargo llvm-cov --cobertura`,
        /// JaCoCo and Istanbul converters).
        Cobertura = "cobertura",
        /// LCOV tracefile (`lcov`, `cargo llvm-cov --lcov`, Istanbul, c8).
        Lcov = "lcov",
    }
}
