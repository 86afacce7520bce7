//! `shipgate replay`: shadow-evaluate a policy change against the decisions
//! of a decision log (see [`shipgate_engine::replay`]).

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::CliError;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::replay::{Log, replay};
use shipgate_engine::runtime::CacheMode;

/// Arguments of `shipgate replay`: replay every decision of a decision log
/// under the policies of a configuration and show the ones that would come
/// out otherwise.
///
/// Exit codes: 0 the replay ran (whatever changed), 1 error (unreadable log
/// or record, bad configuration), 2 with `--fail-on-change` when any
/// record's verdict changed.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 the replay ran (whatever changed), 1 error, \
                  2 with --fail-on-change when any verdict changed."
)]
pub struct ReplayArgs {
    /// The decision log to replay (`shipgate check`, `shipgate watch` and
    /// `shipgate eval --log` write one).
    #[arg(long, value_name = "LOG")]
    pub log: PathBuf,
    /// The configuration to replay under; default the nearest `shipgate.toml`
    /// from here up to the repository root, else the built-in default.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: ReplayFormat,
    /// Show every record, not only the changed ones.
    #[arg(long)]
    pub all: bool,
    /// Exit 2 when any record's verdict changed (for CI that blocks a policy
    /// change that flips past decisions).
    #[arg(long)]
    pub fail_on_change: bool,
    /// Compile policies without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Where bundles come from.
    #[command(flatten)]
    pub bundles: super::BundleArgs,
}

/// How `shipgate replay` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReplayFormat {
    /// One block per changed record, then a summary.
    Text,
    /// One JSON document.
    Json,
}

/// Runs `shipgate replay`: 0 when the replay ran, 2 with `--fail-on-change`
/// when a verdict changed; errors are exit 1.
pub fn run(args: &ReplayArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let config = super::load_config_with_bundles(args.config.as_deref(), &args.bundles)?;
    let log = Log::read(&args.log).map_err(|e| CliError::Other(e.to_string()))?;
    let cache = if args.no_cache {
        CacheMode::Disabled
    } else {
        CacheMode::Default
    };
    let policies = PolicySet::load(&config, &cache)?;
    let result = replay(&log, &policies).map_err(|e| CliError::Other(e.to_string()))?;
    let text = match args.format {
        ReplayFormat::Text => result.text(args.all),
        ReplayFormat::Json => result.json(
            &args.log,
            &shipgate_engine::decision_log::ConfigRef::of(&config),
            args.all,
        ),
    };
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(if args.fail_on_change && result.verdict_changed() > 0 {
        ExitCode::VerdictChanged
    } else {
        ExitCode::Success
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_documents_the_exit_codes() {
        let mut cmd = ReplayArgs::augment_args(clap::Command::new("replay"));
        let help = cmd.render_long_help().to_string();
        assert!(help.contains("--fail-on-change"), "{help}");
        assert!(help.contains("2 with --fail-on-change"), "{help}");
    }
}
