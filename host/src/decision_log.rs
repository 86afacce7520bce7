//! The decision log: one JSON object per line for every `shipgate check`,
//! appended, flushed and synced before the command exits, so that a decision
//! can be replayed exactly with `shipgate eval --from-log`.
//!
//! A record holds the time, the stage, the snapshot and its sha256, the
//! configuration's sha256, each policy's component sha256 and the report.
//! The snapshot carries environment variable names only, never values, so
//! the log holds no secret the snapshot does not.

use std::fs::OpenOptions;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use shipgate_model::{Snapshot, Stage, Timestamp, Verdict};

use crate::report::Report;

/// The record format's version, bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// When the decision was made (the snapshot's request time).
    pub time: Timestamp,
    /// The command that made it (`check`, `watch`).
    pub command: String,
    /// The question asked.
    pub stage: Stage,
    /// The overall verdict.
    pub verdict: Verdict,
    /// The exit code the command gave.
    pub exit_code: i32,
    /// The configuration the policies came from.
    pub config: ConfigRef,
    /// Each configured policy and the sha256 of its component.
    pub policies: Vec<PolicyRef>,
    /// sha256 of the snapshot's canonical JSON (see [`snapshot_sha256`]).
    pub snapshot_sha256: String,
    /// The snapshot itself.
    pub snapshot: Snapshot,
    /// The report, in the form of `--format json`.
    pub report: serde_json::Value,
    /// `watch`: the hooks that ran since the record before (the phase's
    /// traffic hook in its first interval), with their exit status and
    /// output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<crate::watch::hook::HookRun>,
}

/// Which configuration a record was made under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRef {
    /// Its path, or the built-in default's name.
    pub path: String,
    /// sha256 of its text.
    pub sha256: String,
}

/// One policy of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// Its name in the configuration.
    pub name: String,
    /// sha256 of its component.
    pub sha256: String,
}

/// Why the log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file could not be opened, written or synced.
    #[error("decision log `{}`: {source}", path.display())]
    Io {
        /// The log file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line is not a record.
    #[error("decision log `{}`, line {line}: {message}", path.display())]
    Invalid {
        /// The log file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The log has no record with that number.
    #[error("decision log `{}` has {count} records; there is no record {wanted}", path.display())]
    NoSuchRecord {
        /// The log file.
        path: PathBuf,
        /// How many records it has.
        count: usize,
        /// The 1-based record asked for.
        wanted: usize,
    },
}

/// sha256 of the snapshot's canonical JSON: its compact serde form, in which
/// field order is fixed by the types and maps are sorted.
pub fn snapshot_sha256(snapshot: &Snapshot) -> String {
    let bytes = serde_json::to_vec(snapshot).unwrap_or_default();
    hex::encode(sha2::Sha256::digest(&bytes))
}

impl Record {
    /// The record of one decision.
    pub fn new(command: &str, snapshot: &Snapshot, report: &Report, config: ConfigRef) -> Record {
        Record {
            format: FORMAT_VERSION,
            time: snapshot.deployment.requested_at,
            command: command.to_owned(),
            stage: report.stage,
            verdict: report.verdict,
            exit_code: report.exit_code(),
            config,
            policies: report
                .policies
                .iter()
                .map(|p| PolicyRef {
                    name: p.name.clone(),
                    sha256: p.sha256.clone(),
                })
                .collect(),
            snapshot_sha256: snapshot_sha256(snapshot),
            snapshot: snapshot.clone(),
            report: crate::render::json_value(report),
            hooks: Vec::new(),
        }
    }
}

/// Appends `record` to the log at `path` as one line, creating the file and
/// its folder if needed; flushed and synced to disk before returning.
pub fn append(path: &Path, record: &Record) -> Result<(), LogError> {
    let io = |source| LogError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let line = serde_json::to_string(record).map_err(|e| io(std::io::Error::other(e)))?;
    // Nothing secret is written, whatever reached the record.
    let mut line = crate::redact::scrub(&line).into_owned().into_bytes();
    line.push(b'\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    // One write of the whole line: concurrent appenders do not interleave
    // within a line on local file systems (O_APPEND).
    file.write_all(&line).map_err(io)?;
    file.flush().map_err(io)?;
    file.sync_all().map_err(io)
}

/// Every record of the log, oldest first. Blank lines are skipped; a line
/// that is not a record is an error naming it.
pub fn read(path: &Path) -> Result<Vec<Record>, LogError> {
    Ok(read_numbered(path)?.into_iter().map(|(_, r)| r).collect())
}

/// Like [`read`], with each record's 1-based line in the file (blank lines
/// are skipped but counted).
pub fn read_numbered(path: &Path) -> Result<Vec<(usize, Record)>, LogError> {
    let file = std::fs::File::open(path).map_err(|source| LogError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut records = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| LogError::Io {
            path: path.to_owned(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line).map_err(|e| LogError::Invalid {
            path: path.to_owned(),
            line: index + 1,
            message: e.to_string(),
        })?;
        records.push((index + 1, record));
    }
    Ok(records)
}

/// How many records the log holds (its non-blank lines, as [`read`] counts
/// them), 0 if it does not exist yet; the records are not parsed.
pub fn count(path: &Path) -> Result<usize, LogError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().filter(|l| !l.trim().is_empty()).count()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(source) => Err(LogError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Record `number` (1-based; 0 or none for the last) of the log.
pub fn record(path: &Path, number: Option<usize>) -> Result<Record, LogError> {
    let mut records = read(path)?;
    let count = records.len();
    let wanted = number.filter(|n| *n > 0).unwrap_or(count);
    if wanted == 0 || wanted > count {
        return Err(LogError::NoSuchRecord {
            path: path.to_owned(),
            count,
            wanted,
        });
    }
    Ok(records.swap_remove(wanted - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_counts_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        assert_eq!(count(&path).unwrap(), 0);
        std::fs::write(&path, "{}\n\n{}\n").unwrap();
        assert_eq!(count(&path).unwrap(), 2);
    }
}
