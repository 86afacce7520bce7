//! The `git` source: what the change base..head touches, read from a local
//! repository with the `git` command line.
//!
//! (stub: being written)

use serde::Deserialize;
use shipgate_model::Change;

use super::support::{Context, SourceError};

/// `[sources.git]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitConfig {
    /// The repository; default the configuration file's directory.
    pub repo: Option<std::path::PathBuf>,
    /// The base of the range; default the merge base with the default branch.
    pub base: Option<String>,
    /// The head of the range; default `HEAD`.
    pub head: Option<String>,
    /// How long the source may take.
    pub timeout: Option<super::support::Duration>,
}

/// What the `git` source found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GitFacts {
    /// The head commit's full id.
    pub head: String,
    /// The base commit's full id.
    pub base: Option<String>,
    /// Files, commits, migrations, breaking changes, dependencies, areas.
    pub change: Change,
    /// Variable names the range adds to `.env.example`-style files.
    pub env_vars_added: Vec<String>,
}

/// Reads the change from the repository. Blocking: runs `git`.
pub fn collect(config: &GitConfig, ctx: &Context) -> Result<GitFacts, SourceError> {
    let _ = (config, ctx);
    Err(SourceError::new("the git source is not written yet"))
}
