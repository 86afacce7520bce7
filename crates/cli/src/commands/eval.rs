//! `shipgate eval`: evaluate the configured policies on a saved snapshot.

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use shipgate_model::{Snapshot, Stage};

use super::{CliError, load_config_with_bundles, read};
use crate::render;
use shipgate_core::bounded;
use shipgate_core::config::Format;
use shipgate_engine::decision_log;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::runtime::CacheMode;

/// Arguments of `shipgate eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The snapshot file (JSON; see `shipgate snapshot schema`).
    #[arg(
        long,
        short = 's',
        value_name = "FILE",
        required_unless_present = "from_log",
        conflicts_with = "from_log"
    )]
    pub snapshot: Option<PathBuf>,
    /// Replay a decision from a decision log (`shipgate check` writes one):
    /// its snapshot and, unless `--stage` is given, its stage.
    #[arg(long, value_name = "LOG")]
    pub from_log: Option<PathBuf>,
    /// With `--from-log`: the record's number, 1 for the first; default the
    /// last.
    #[arg(long, value_name = "N", requires = "from_log")]
    pub entry: Option<usize>,
    /// The configuration; default the nearest `shipgate.toml` from here up to
    /// the repository root, else the built-in default.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The question: `gate`, `canary`, `risk` or `verify`. Default: `canary`
    /// if the snapshot has a rollout in progress, else `verify` if it has
    /// health-probe results, else `gate`.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<Stage>,
    /// Output format; default from the configuration's `[output]`, else text.
    #[arg(long, short = 'f', value_parser = super::format_parser())]
    pub format: Option<Format>,
    /// Compile policies without the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Append the decision to this decision log (JSON Lines, command
    /// `eval`) after printing the report, as `shipgate check` does; off by
    /// default. `shipgate replay --log` replays such a log under another
    /// configuration.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Where bundles come from.
    #[command(flatten)]
    pub bundles: super::BundleArgs,
}

/// Reads, parses and validates a snapshot file of at most
/// [`bounded::SNAPSHOT`] bytes, naming the file, line and column on error. A
/// UTF-8 byte-order mark is skipped. A snapshot that parses but holds values
/// that cannot be true ([`Snapshot::invalid_fields`]: a metric listed twice,
/// a negative error rate, coverage above 100 %) is an error naming each
/// field.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, CliError> {
    let bytes = read(path, bounded::SNAPSHOT)?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| CliError::Snapshot {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let invalid = snapshot.invalid_fields();
    if !invalid.is_empty() {
        let fields: Vec<String> = invalid.iter().map(ToString::to_string).collect();
        return Err(CliError::Snapshot {
            path: path.to_owned(),
            message: fields.join("; "),
        });
    }
    Ok(snapshot)
}

/// Runs `shipgate eval`; returns the decision's exit code.
pub fn run(args: &EvalArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let config = load_config_with_bundles(args.config.as_deref(), &args.bundles)?;
    let (snapshot, logged_stage) = match (&args.snapshot, &args.from_log) {
        (Some(path), _) => (read_snapshot(path)?, None),
        (None, Some(log)) => {
            let record = decision_log::record(log, args.entry)
                .map_err(|e| CliError::Other(e.to_string()))?;
            if record.config.sha256 != config.sha256() {
                tracing::warn!(
                    "the record was made under another configuration ({}, sha256 {}); \
                     the decision may differ",
                    record.config.path,
                    record.config.sha256
                );
            }
            let missing = record
                .config
                .bundles_not_in(&decision_log::ConfigRef::of(&config));
            if !missing.is_empty() {
                tracing::warn!(
                    "the record was decided with bundles this configuration does not run: {}; \
                     pin them by digest in `[[bundles]]` to decide exactly as it did",
                    missing.join(", ")
                );
            }
            (record.snapshot, Some(record.stage))
        }
        (None, None) => {
            return Err(CliError::Other(
                "give a snapshot with --snapshot FILE or a log with --from-log LOG".into(),
            ));
        }
    };
    let stage = args
        .stage
        .or(logged_stage)
        .unwrap_or_else(|| snapshot.default_stage());
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
    if let Some(path) = &args.log {
        // The report is out; a log that cannot be written is an error (exit
        // 1), not the decision's code, as for `check`.
        out.flush()?;
        let record = shipgate_engine::decision_log::Record::of("eval", &snapshot, &report, &config);
        decision_log::append(path, &record).map_err(|e| CliError::Other(e.to_string()))?;
        tracing::info!(log = %path.display(), "decision recorded");
    }
    Ok(report.exit_code())
}
