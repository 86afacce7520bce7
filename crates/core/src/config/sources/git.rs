//! `[sources.git]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::config::Duration;

/// `env_files` when not configured.
pub const DEFAULT_ENV_FILES: [&str; 3] = [".env.example", ".env.sample", ".env.template"];

/// `[sources.git]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GitConfig {
    /// The repository (any folder inside it), relative to the
    /// configuration file. Default: the configuration file's folder.
    pub repo: Option<PathBuf>,
    /// The base of the range (any revision: a branch, a tag, a commit id).
    /// Default: the merge base with the default branch (see the module
    /// documentation).
    pub base: Option<String>,
    /// The head of the range. Default: `HEAD`.
    pub head: Option<String>,
    /// Globs of migration files, besides the defaults (framework none).
    /// Default: none.
    pub migrations: Vec<String>,
    /// Whether the built-in migration globs apply. Default: `true`.
    pub default_migrations: bool,
    /// Area names and their globs (`payments = ["services/payments/**"]`):
    /// an area is listed when a changed file matches one of its globs.
    /// Default: none.
    pub areas: BTreeMap<String, Vec<String>>,
    /// File names (in any folder) of the files that declare environment
    /// variables. Default: `[".env.example", ".env.sample",
    /// ".env.template"]`.
    pub env_files: Vec<String>,
    /// How long the source may take. Default: 30 seconds.
    pub timeout: Option<Duration>,
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig {
            repo: None,
            base: None,
            head: None,
            migrations: Vec::new(),
            default_migrations: true,
            areas: BTreeMap::new(),
            env_files: DEFAULT_ENV_FILES.map(str::to_owned).to_vec(),
            timeout: None,
        }
    }
}
