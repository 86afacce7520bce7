//! The `shipgate` command line: the clap definitions and one module per
//! subcommand. `main.rs` only parses and dispatches; every subcommand writes
//! to the writer it is given and returns the process exit code.

pub mod build;
pub mod bundle;
pub mod check;
pub mod collect;
pub mod eval;
pub mod exception;
pub mod explain;
pub mod new;
pub mod policy;
pub mod replay;
pub mod snapshot;
pub mod test;
pub mod watch;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use shipgate_core::config::{Config, ConfigError, Format};
use shipgate_engine::policy_set::SetupError;

/// `--format`: one of [`Format::ALL`], listed as the flag's possible values.
pub fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Format::ALL.iter().map(|f| f.as_str()))
        // The parser has already refused every other name.
        .map(|name| name.parse::<Format>().unwrap_or_default())
}

/// Deployment gating with sandboxed WebAssembly policies.
///
/// Exit codes: 0 go, 1 error, 2 no-go, 3 rollback, 4 hold; `watch`: 0
/// rollout complete, 3 rolled back, 130/143 stopped by SIGINT/SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "shipgate", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a policy crate into a component and print its sha256.
    Build(build::BuildArgs),
    /// Policy bundles: build, test, sign, verify, inspect, save, load.
    #[command(subcommand)]
    Bundle(bundle::BundleCommand),
    /// Collect a snapshot, evaluate the policies, print the decision and log it.
    Check(check::CheckArgs),
    /// Evaluate the configured policies on a saved snapshot and print the decision.
    Eval(eval::EvalArgs),
    /// Signed exceptions, the only way to loosen an org policy: sign,
    /// verify, inspect.
    #[command(subcommand)]
    Exception(exception::ExceptionCommand),
    /// Make an Ed25519 key pair for signing bundles: NAME.key and NAME.pub.
    Keygen(bundle::KeygenArgs),
    /// Create something to start from: `shipgate new policy NAME`.
    New(new::NewArgs),
    /// Work with policy components.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Replay a decision log under another configuration and show the
    /// decisions that would change.
    Replay(replay::ReplayArgs),
    /// Collect a snapshot from the configured sources (or print its schema).
    Snapshot(snapshot::SnapshotArgs),
    /// Run policy test cases and compare each decision with its reviewed
    /// one (builds a policy crate first).
    Test(test::TestArgs),
    /// After a deploy: collect (health probes, smoke tests, metrics) and ask
    /// the `verify` stage whether to keep it or roll it back (`check --stage
    /// verify`).
    Verify(check::VerifyArgs),
    /// Drive a phased canary rollout: move traffic with hooks, decide every
    /// interval, roll back when a trigger fires.
    Watch(watch::WatchArgs),
}

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The policies could not be set up.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// A file could not be read, or is larger than its cap.
    // Not a `source`: the message already says it (an error chain would
    // print it twice).
    #[error("cannot read `{}`: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error, or the cap it exceeds.
        error: shipgate_core::bounded::ReadError,
    },
    /// A snapshot file is not valid.
    #[error("{}: invalid snapshot: {message}", path.display())]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// A bundle could not be built, read, signed or verified.
    #[error(transparent)]
    Bundle(#[from] shipgate_bundle::Error),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Write(#[from] std::io::Error),
    /// Anything else, already worded for a person.
    #[error("{0}")]
    Other(String),
}

/// The configuration to use: `--config FILE`, else the `shipgate.toml`
/// [`discover_config`] finds from the current directory, else the built-in
/// default. When it is not `./shipgate.toml`, stderr says which one is used.
pub fn load_config(explicit: Option<&Path>) -> Result<Config, CliError> {
    if let Some(path) = explicit {
        return Ok(Config::load(path)?);
    }
    let cwd = std::env::current_dir().map_err(|source| CliError::Read {
        path: PathBuf::from("."),
        error: source.into(),
    })?;
    match discover_config(&cwd) {
        Discovery::Found(path) if path.parent() == Some(cwd.as_path()) => {
            Ok(Config::load(Path::new(CONFIG_FILE))?)
        }
        Discovery::Found(path) => {
            tracing::warn!(
                "using the configuration `{}`: there is no `{CONFIG_FILE}` in the current \
                 directory, and this is the nearest one up to the repository root",
                path.display()
            );
            Ok(Config::load(&path)?)
        }
        Discovery::None { searched_to } => {
            let searched = match searched_to {
                Some(root) => format!(
                    "in the current directory or its parents up to the repository root `{}`",
                    root.display()
                ),
                None => "in the current directory (not inside a git repository, so its \
                         parents were not searched)"
                    .to_owned(),
            };
            tracing::warn!(
                "no `{CONFIG_FILE}` {searched}: using the built-in default configuration \
                 (every built-in policy with its defaults); give one with `--config FILE`"
            );
            Ok(Config::from_default_toml(
                shipgate_engine::builtin::DEFAULT_CONFIG,
                "<built-in default config>",
            )?)
        }
    }
}

/// Where bundles come from: `--offline` and the org file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BundleArgs {
    /// Use only bundles already in the local store (`[registry] store`);
    /// never ask a registry.
    #[arg(long)]
    pub offline: bool,
    /// The org file: the bundles (org and group layers) every team runs,
    /// and the trust file for all bundles. A team's configuration can only
    /// tighten their required policies.
    #[arg(long, value_name = "FILE", env = "SHIPGATE_ORG")]
    pub org: Option<PathBuf>,
}

impl BundleArgs {
    /// The org file, read and checked: only `[trust]`, `[registry]` and
    /// `[[bundles]]` (its rules are in its bundles).
    pub fn org(&self) -> Result<Option<Config>, CliError> {
        let Some(path) = &self.org else {
            return Ok(None);
        };
        let org = Config::load(path)?;
        if !org.policies.is_empty() {
            return Err(CliError::Config(org.key_error(
                "policies",
                "an org file runs bundles, not `[[policies]]` of its own: put them in a bundle with `layer = \"org\"`",
            )));
        }
        Ok(Some(org))
    }
}

/// [`load_config`], then the org file's and its own bundles pinned,
/// fetched, verified, merged by layer, and their policies added
/// ([`shipgate_fetch::resolve`]). A bundle that cannot be fetched or
/// verified, or a table that weakens a required policy, is a
/// configuration error naming it.
pub fn load_config_with_bundles(
    explicit: Option<&Path>,
    bundles: &BundleArgs,
) -> Result<Config, CliError> {
    let mut config = load_config(explicit)?;
    let org = bundles.org()?;
    shipgate_fetch::resolve(
        &mut config,
        shipgate_fetch::Options {
            org: org.as_ref(),
            offline: bundles.offline,
            now: time::OffsetDateTime::now_utc(),
        },
    )?;
    Ok(config)
}

/// The configuration file's name.
pub const CONFIG_FILE: &str = "shipgate.toml";

/// What [`discover_config`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    /// The nearest `shipgate.toml`.
    Found(PathBuf),
    /// None: the search went up to this repository root (`None` when the
    /// start is not inside a git repository and only it was searched).
    None {
        /// The last directory searched, when the search went up.
        searched_to: Option<PathBuf>,
    },
}

/// Looks for `shipgate.toml` in `start`, then in its parents up to the root
/// of the repository `start` is in (the nearest directory holding `.git`,
/// a directory or, for worktrees and submodules, a file), as git, cargo and
/// ruff look for theirs. Outside a repository only `start` is searched: a
/// stray `shipgate.toml` in `/tmp` or `$HOME` must not decide a deployment.
pub fn discover_config(start: &Path) -> Discovery {
    let root = start.ancestors().find(|d| d.join(".git").exists());
    let mut searched = start.ancestors();
    let last = root.unwrap_or(start);
    for dir in searched.by_ref() {
        let candidate = dir.join(CONFIG_FILE);
        if candidate.is_file() {
            return Discovery::Found(candidate);
        }
        if dir == last {
            break;
        }
    }
    Discovery::None {
        searched_to: root.map(Path::to_owned),
    }
}

/// A value as pretty JSON with a final newline: what `--format json`
/// prints.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Other(format!("cannot serialize the output: {e}")))?;
    text.push('\n');
    Ok(text)
}

/// Reads a file of at most `cap` bytes ([`shipgate_core::bounded`]), naming it in
/// the error.
pub fn read(path: &Path, cap: shipgate_core::bounded::Cap) -> Result<Vec<u8>, CliError> {
    shipgate_core::bounded::read_file(path, cap).map_err(|error| CliError::Read {
        path: path.to_owned(),
        error,
    })
}

/// The decision log to append to, if any: `--log`, else the configured one
/// unless `--no-log` or `[log] enabled = false`.
pub(crate) fn log_path(log: Option<&Path>, no_log: bool, config: &Config) -> Option<PathBuf> {
    if no_log || (!config.log.enabled && log.is_none()) {
        return None;
    }
    Some(match log {
        Some(path) => path.to_owned(),
        None if config.log.path.is_absolute() => config.log.path.clone(),
        None => config.base_dir().join(&config.log.path),
    })
}
