//! `[sources.environment]`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::Duration;

/// `[sources.environment]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnvironmentConfig {
    /// The files that declare the variables, relative to the configuration
    /// file. Default: whichever of `.env.example`, `.env.sample` and
    /// `.env.template` exist beside the configuration file (none is not an
    /// error). A file listed here that does not exist is an error.
    pub declared: Option<Vec<PathBuf>>,
    /// `"process"`: the present names are the names of this process's
    /// environment variables. Default: `"process"` when neither
    /// `present_dotenv` nor `present_names` is given.
    pub present: Option<PresentFrom>,
    /// A dotenv file of the target environment: its names are the present
    /// names; its values are never kept. Default: none.
    pub present_dotenv: Option<PathBuf>,
    /// A file of the target environment's names, one per line (`#`
    /// comments allowed). Default: none.
    pub present_names: Option<PathBuf>,
    /// How long the source may take. Default: 10 seconds.
    pub timeout: Option<Duration>,
}

/// Where the present names come from, when written as `present = "..."`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresentFrom {
    /// The names of this process's environment variables.
    Process,
}
