//! The `environment` source: variables the code declares (from
//! `.env.example`-style files) and the *names* present in the target
//! environment. Values are never read into the snapshot.
//!
//! (stub: being written)

use serde::Deserialize;
use shipgate_model::Environment;

use super::support::{Context, SourceError};

/// `[sources.environment]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentConfig {
    /// How long the source may take.
    pub timeout: Option<super::support::Duration>,
}

/// Reads declared and present variable names. Blocking: reads files.
pub fn collect(config: &EnvironmentConfig, ctx: &Context) -> Result<Environment, SourceError> {
    let _ = (config, ctx);
    Err(SourceError::new(
        "the environment source is not written yet",
    ))
}
