//! `shipgate check`: collect a snapshot, evaluate the policies, print the
//! report, append the decision to the log, and exit with the decision's code.
//! `shipgate verify` is `check --stage verify`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use shipgate_core::config::Format;
use shipgate_engine::decision_log::{self, Record};
use shipgate_engine::exit::ExitCode;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::CacheMode;
use shipgate_model::Stage;

use super::CliError;
use super::collect::{CollectArgs, collect};
use crate::render;

/// Arguments of `shipgate check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// What to collect, and where the decision goes.
    #[command(flatten)]
    pub decide: DecideArgs,
    /// The question: `gate` (go / no-go before a deploy), `canary` (promote /
    /// hold / roll back), `risk`, or `verify` (after a deploy: keep it, wait
    /// or roll back).
    #[arg(long, value_name = "STAGE", default_value = "gate")]
    pub stage: Stage,
}

/// Arguments of `shipgate verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What to collect, and where the decision goes.
    #[command(flatten)]
    pub decide: DecideArgs,
}

/// What `check` and `verify` share: what to collect, how to print, where
/// to log.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// What to collect.
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Output format; default from the configuration's `[output]`, else text.
    #[arg(long, short = 'f', value_parser = super::format_parser())]
    pub format: Option<Format>,
    /// Compile policies without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Append the decision to this log instead of the configured one
    /// (`[log] path`, default `.shipgate/decisions.jsonl`).
    #[arg(long, value_name = "FILE", conflicts_with = "no_log")]
    pub log: Option<PathBuf>,
    /// Do not write the decision log.
    #[arg(long)]
    pub no_log: bool,
    /// Append the Markdown report to this file; default
    /// `$GITHUB_STEP_SUMMARY` when set (inside GitHub Actions).
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,
}

/// Runs `shipgate check`; returns the decision's exit code.
pub fn run(args: &CheckArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    decide(&args.decide, args.stage, out)
}

/// Runs `shipgate verify` (`check --stage verify`); returns the decision's
/// exit code.
pub fn run_verify(args: &VerifyArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    decide(&args.decide, Stage::Verify, out)
}

fn decide(args: &DecideArgs, stage: Stage, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let collected = collect(&args.collect, Some(stage))?;
    let (config, snapshot) = (collected.config, collected.snapshot);
    let cache = if args.no_cache {
        CacheMode::Disabled
    } else {
        CacheMode::Default
    };
    let policies = PolicySet::load(&config, &cache)?;
    let report = policies.evaluate(stage, &snapshot);

    let text = render::report(
        &report,
        &snapshot,
        args.format.unwrap_or(config.output.format),
    );
    out.write_all(text.as_bytes())?;
    out.flush()?;

    // The report is out; now the records. A failure here is an error (exit
    // 1), not the decision's code: a pipeline must not go on without them.
    if let Some(path) = summary_path(args) {
        append_summary(&path, &render::markdown_summary(&report, &snapshot))?;
    }
    if let Some(path) = super::log_path(args.log.as_deref(), args.no_log, &config) {
        let record = Record::of("check", &snapshot, &report, &config);
        decision_log::append(&path, &record).map_err(|e| CliError::Other(e.to_string()))?;
        tracing::info!(log = %path.display(), "decision recorded");
    }
    Ok(report.exit_code())
}

/// The step summary file: `--summary`, else `$GITHUB_STEP_SUMMARY`.
fn summary_path(args: &DecideArgs) -> Option<PathBuf> {
    args.summary.clone().or_else(|| {
        std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Appends Markdown to a step summary file (GitHub concatenates what every
/// step appends).
fn append_summary(path: &std::path::Path, markdown: &str) -> Result<(), CliError> {
    let io = |e: std::io::Error| {
        CliError::Other(format!(
            "cannot write the summary `{}`: {e}",
            path.display()
        ))
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    file.write_all(markdown.as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.flush().map_err(io)
}
