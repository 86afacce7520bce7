//! `shipgate snapshot`: the snapshot file format.

use std::io::Write;

use clap::Subcommand;
use shipgate_model::Snapshot;

use super::CliError;

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

/// Runs a `shipgate snapshot` subcommand.
pub fn run(command: &SnapshotCommand, out: &mut dyn Write) -> Result<i32, CliError> {
    match command {
        SnapshotCommand::Schema => out.write_all(schema().as_bytes())?,
    }
    Ok(0)
}
