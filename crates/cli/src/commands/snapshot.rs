//! `shipgate snapshot`: collect a snapshot from the configured sources and
//! write it; `shipgate snapshot schema`: the snapshot file format.

use shipgate_engine::exit::ExitCode;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use shipgate_model::{Snapshot, Stage};

use super::CliError;
use super::collect::{CollectArgs, collect};

/// Arguments of `shipgate snapshot`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SnapshotArgs {
    /// A subcommand instead of collecting.
    #[command(subcommand)]
    pub command: Option<SnapshotCommand>,
    /// What to collect.
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Write the snapshot to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Collect for this question: the HTTP health probes (`[sources.http]`)
    /// run only for `verify`, after a deploy.
    #[arg(long, value_name = "STAGE")]
    pub stage: Option<Stage>,
}

/// Subcommands of `shipgate snapshot`.
#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Print the JSON Schema of the snapshot file format.
    Schema,
}

/// The JSON Schema of a snapshot file, pretty-printed.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Snapshot);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A snapshot as its file form: pretty JSON in the types' field order, with
/// a final newline, every secret masked ([`shipgate_core::redact`]). Two collections
/// of the same inputs give the same bytes apart from the time.
pub fn to_file_text(snapshot: &Snapshot) -> Result<String, CliError> {
    let text = super::json_text(snapshot)?;
    Ok(shipgate_core::redact::scrub(&text).into_owned())
}

/// Runs `shipgate snapshot`. Exit code 0; the gaps are in the snapshot (and
/// logged as warnings on standard error).
pub fn run(args: &SnapshotArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    if let Some(SnapshotCommand::Schema) = args.command {
        out.write_all(schema().as_bytes())?;
        return Ok(ExitCode::Success);
    }
    let collected = collect(&args.collect, args.stage)?;
    let text = to_file_text(&collected.snapshot)?;
    match &args.out {
        Some(path) => write_file(path, text.as_bytes())?,
        None => out.write_all(text.as_bytes())?,
    }
    Ok(ExitCode::Success)
}

/// Writes a file whole: to a temporary file beside it, synced, then renamed
/// over it, so that a reader never sees half a snapshot.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    let io = |e: std::io::Error| CliError::Other(format!("cannot write `{}`: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    shipgate_core::atomic::write(path, bytes).map_err(io)
}
