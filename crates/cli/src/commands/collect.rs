//! What `shipgate snapshot` and `shipgate check` share: the flags that say
//! what is deployed and which range to read, and running the collection.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use shipgate_model::{DeployKind, Severity, Snapshot, Stage, Timestamp};

use super::{CliError, load_config_with_bundles};
use shipgate_collect::{Context, DeploymentConfig, ProcessVars, SourcesConfig, Vars};
use shipgate_core::config::Config;

/// Flags of the commands that collect a snapshot.
#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// The configuration; default the nearest `shipgate.toml` from here up to
    /// the repository root, else the built-in default.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The base of the git range (a commit, branch or tag); default the
    /// merge base with the default branch.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// The head of the git range; default `HEAD`.
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    /// The service; default `[deployment] service`, else the folder's name.
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// The target environment; default `[deployment] environment`, else
    /// `production`.
    #[arg(long, short = 'e', value_name = "NAME")]
    pub environment: Option<String>,
    /// The version being deployed; default the head commit's short id.
    #[arg(long = "release", value_name = "VERSION")]
    pub version: Option<String>,
    /// Regular, hotfix or rollback.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<DeployKind>,
    /// Incident severity of a hotfix (P0–P3).
    #[arg(long, value_name = "SEVERITY")]
    pub severity: Option<Severity>,
    /// Collect as if it were this time (RFC 3339), e.g. to reproduce a
    /// deploy-window decision; default now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<Timestamp>,
    /// Where bundles come from.
    #[command(flatten)]
    pub bundles: super::BundleArgs,
}

impl CollectArgs {
    /// The `[deployment]` settings the flags give.
    fn deployment(&self) -> DeploymentConfig {
        DeploymentConfig {
            service: self.service.clone(),
            environment: self.environment.clone(),
            version: self.version.clone(),
            kind: self.kind,
            severity: self.severity,
            actor: None,
        }
    }
}

/// The loaded configuration and the collected snapshot.
#[derive(Debug)]
pub struct Collected {
    /// The configuration.
    pub config: Config,
    /// The snapshot.
    pub snapshot: Snapshot,
}

/// Loads the configuration and collects a snapshot with it for `stage`
/// ([`SourcesConfig::for_stage`]: the health probes run only for
/// `verify`), reading variables from the process environment.
pub fn collect(args: &CollectArgs, stage: Option<Stage>) -> Result<Collected, CliError> {
    collect_with(args, stage, Arc::new(ProcessVars))
}

/// [`collect()`] with the given variables (tests pass a fixed set).
pub fn collect_with(
    args: &CollectArgs,
    stage: Option<Stage>,
    vars: Arc<dyn Vars>,
) -> Result<Collected, CliError> {
    let prepared = prepare(args, vars)?;
    let ctx = prepared.context(args.now.unwrap_or_else(shipgate_collect::now));
    let sources = prepared.sources.for_stage(stage);
    let collection = shipgate_collect::collect(&sources, &prepared.deployment, ctx)
        .map_err(|e| CliError::Other(e.to_string()))?;
    for (source, millis) in &collection.timings {
        tracing::info!(source, millis, "collected");
    }
    for gap in &collection.snapshot.gaps {
        tracing::warn!(
            "{}: {}",
            gap.source,
            shipgate_core::escape::escape_line(&gap.reason)
        );
    }
    Ok(Collected {
        config: prepared.config,
        snapshot: collection.snapshot,
    })
}

/// The configuration with the flags applied: what to collect, ready to run
/// once (`check`, `snapshot`) or every interval (`watch`).
#[derive(Debug)]
pub struct Prepared {
    /// The configuration.
    pub config: Config,
    /// The sources, with `--base` and `--head` applied.
    pub sources: SourcesConfig,
    /// What is deployed, with the flags applied.
    pub deployment: DeploymentConfig,
    vars: Arc<dyn Vars>,
}

impl Prepared {
    /// The collection context at `now`.
    pub fn context(&self, now: Timestamp) -> Context {
        Context {
            base_dir: self.config.base_dir(),
            now,
            commit: self.vars.get("GITHUB_SHA"),
            vars: Arc::clone(&self.vars),
        }
    }
}

/// Loads the configuration and applies the flags.
pub fn prepare(args: &CollectArgs, vars: Arc<dyn Vars>) -> Result<Prepared, CliError> {
    let config = load_config_with_bundles(args.config.as_deref(), &args.bundles)?;
    let mut sources = config.sources.clone();
    if args.base.is_some() || args.head.is_some() {
        let git = sources.git.get_or_insert_with(Default::default);
        if args.base.is_some() {
            git.base.clone_from(&args.base);
        }
        if args.head.is_some() {
            git.head.clone_from(&args.head);
        }
    }
    let deployment = config.deployment.overridden_by(&args.deployment());
    Ok(Prepared {
        config,
        sources,
        deployment,
        vars,
    })
}
