//! The decision log: one JSON object per line for every `shipgate check`,
//! appended, flushed and synced before the command exits, so that a decision
//! can be replayed exactly with `shipgate eval --from-log`. See [`append`]
//! for what survives a crash, and [`scan`] for how a torn line is read.
//!
//! A record holds the time, the stage, the snapshot and its sha256, the
//! configuration's sha256, each policy's component sha256 and the report.
//! The snapshot carries environment variable names only, never values, so
//! the log holds no secret the snapshot does not.

use std::fs::OpenOptions;
use std::io::{BufReader, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use shipgate_model::{Snapshot, Stage, Timestamp, Verdict};

use shipgate_core::bounded;

use crate::config::{BundleOrigin, Config};
use crate::report::Report;

mod hooks;

pub use hooks::{HookKind, HookRun, HookStatus};

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
    pub exit_code: crate::exit::ExitCode,
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
    pub hooks: Vec<HookRun>,
}

/// Which configuration a record was made under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigRef {
    /// Its path, or the built-in default's name.
    pub path: String,
    /// sha256 of its text.
    pub sha256: String,
    /// The bundles whose policies it ran (`[[bundles]]`, fetched): name,
    /// version, digest, signers and the pinned source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundles: Vec<BundleOrigin>,
}

impl ConfigRef {
    /// The bundles `self` (a record's) was decided with that `now` does not
    /// run at the same digest, each as `name version (digest) from source`:
    /// what to pin to decide exactly as the record did.
    pub fn bundles_not_in(&self, now: &ConfigRef) -> Vec<String> {
        self.bundles
            .iter()
            .filter(|b| !now.bundles.iter().any(|n| n.digest == b.digest))
            .map(|b| format!("{} {} ({}) from {}", b.name, b.version, b.digest, b.source))
            .collect()
    }

    /// How a record names `config`: its path (or the built-in default's
    /// name) and the sha256 of its text.
    pub fn of(config: &Config) -> ConfigRef {
        let path = config.path.as_ref().map_or_else(
            || config.file_name().to_owned(),
            |p| p.display().to_string(),
        );
        ConfigRef {
            path,
            sha256: config.sha256(),
            bundles: config.bundle_origins().into_iter().cloned().collect(),
        }
    }
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
    /// The record of one decision made under `config` by `command`.
    pub fn of(command: &str, snapshot: &Snapshot, report: &Report, config: &Config) -> Record {
        Record::new(command, snapshot, report, ConfigRef::of(config))
    }

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
            report: crate::report::json::value(report),
            hooks: Vec::new(),
        }
    }
}

/// Appends `record` to the log at `path` as one line, creating the file and
/// its folder if needed.
///
/// Durability: an append is all or nothing as readers see it, and a record
/// that `append` returned `Ok` for is on disk.
///
/// - The line (scrubbed of every registered secret, [`shipgate_core::redact`]) is
///   written with one `write(2)` on a file opened with `O_APPEND`, while an
///   exclusive lock on the file is held, so concurrent appenders (several
///   `shipgate` processes) never interleave within a line.
/// - A process killed in the middle of that write leaves a torn line at the
///   end of the file. The next append sees that the file does not end with a
///   newline and starts its record on a fresh line, so the torn fragment
///   stays a line of its own that readers report and skip ([`scan`]); the
///   new record is intact.
/// - The file is synced (`fsync`) after every record, and its folder too
///   when the file was created, before `append` returns: it is a decision
///   record, and the command that made it exits only once it is durable.
///
/// A record larger than [`bounded::LOG_RECORD`] is refused (an error), so
/// that every record written can be read back.
pub fn append(path: &Path, record: &Record) -> Result<(), LogError> {
    let io = |source| LogError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_string(record).map_err(|e| io(std::io::Error::other(e)))?;
    let text = shipgate_core::redact::scrub(&text);
    // The line with its newline, and maybe one before it, must be readable.
    if text.len() as u64 + 2 > bounded::LOG_RECORD.bytes {
        return Err(LogError::Invalid {
            path: path.to_owned(),
            line: count(path)? + 1,
            message: format!(
                "the record is {}, larger than {}, the limit for a decision-log record; not written",
                bounded::size(text.len() as u64),
                bounded::size(bounded::LOG_RECORD.bytes)
            ),
        });
    }
    let created = !path.exists();
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .map_err(io)?;
    match file.lock() {
        Ok(()) => {}
        // A file system without locks: appends still do not interleave
        // within one write on a local file system (`O_APPEND`).
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
        Err(e) => return Err(io(e)),
    }
    let mut line = Vec::with_capacity(text.len() + 2);
    if ends_torn(&mut file).map_err(io)? {
        line.push(b'\n');
    }
    line.extend_from_slice(text.as_bytes());
    line.push(b'\n');
    // One write of the whole line (write_all loops only if the kernel wrote
    // part of it, e.g. when the disk is full).
    file.write_all(&line).map_err(io)?;
    file.sync_data().map_err(io)?;
    if created {
        sync_dir(dir.unwrap_or(Path::new("."))).map_err(io)?;
    }
    // Dropping the file releases the lock.
    Ok(())
}

/// Whether the file is not empty and does not end with a newline: the tail
/// of a record whose write was cut short.
fn ends_torn(file: &mut std::fs::File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Syncs a folder, so that a file just created in it survives a crash.
/// Where folders cannot be opened or synced (not Unix), nothing is done.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    if !cfg!(unix) {
        return Ok(());
    }
    match std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// One record of a log, with where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Numbered {
    /// The 1-based record number, as `eval --from-log --entry` counts:
    /// every non-blank line, torn ones included, so that numbers do not
    /// move when a torn line is found.
    pub entry: usize,
    /// The 1-based line in the file.
    pub line: usize,
    /// The record.
    pub record: Record,
}

/// A line of a log that is not a record: the fragment of an append that
/// was cut short, or a damaged line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torn {
    /// The 1-based record number it would have had.
    pub entry: usize,
    /// The 1-based line in the file.
    pub line: usize,
    /// Why it is not a record.
    pub reason: String,
}

/// What [`scan`] found in a log: its records and the lines it skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scan {
    /// The records, oldest first.
    pub records: Vec<Numbered>,
    /// The lines that are not records, in file order.
    pub torn: Vec<Torn>,
}

/// Every line of the log at `path`, each at most [`bounded::LOG_RECORD`]
/// bytes, the whole at most [`bounded::LOG_FILE`]; `each` gets the 1-based
/// line number and the line without its newline. A line or a file past its
/// cap is an error naming it.
fn lines(
    path: &Path,
    mut each: impl FnMut(usize, &[u8]) -> Result<(), LogError>,
) -> Result<(), LogError> {
    let io = |source| LogError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let too_large = |line: usize, cap: bounded::Cap| LogError::Invalid {
        path: path.to_owned(),
        line,
        message: bounded::ReadError::TooLarge { cap }.to_string(),
    };
    let file_too_large = || LogError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(format!(
            "{}; move it aside and start a new one",
            bounded::ReadError::TooLarge {
                cap: bounded::LOG_FILE
            }
        )),
    };
    if file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() > bounded::LOG_FILE.bytes)
    {
        return Err(file_too_large());
    }
    let mut reader = BufReader::new(file);
    let mut buffer = Vec::new();
    let mut total: u64 = 0;
    let mut number = 0;
    loop {
        number += 1;
        let read = match bounded::read_line(&mut reader, &mut buffer, bounded::LOG_RECORD) {
            Ok(read) => read,
            Err(bounded::ReadError::TooLarge { cap }) => return Err(too_large(number, cap)),
            Err(bounded::ReadError::Io(e)) => return Err(io(e)),
        };
        if read == 0 {
            return Ok(());
        }
        total += read as u64;
        if total > bounded::LOG_FILE.bytes {
            return Err(file_too_large());
        }
        let line = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        each(number, line)?;
    }
}

/// Every record of the log, and every line that is not one.
///
/// A line that is not a record (the torn tail of an append that was killed,
/// or a damaged line) does not stop the reading: it is listed in
/// [`Scan::torn`] and reported as a warning naming its line, and the records
/// after it are read. Blank lines are skipped and not numbered. A line
/// longer than [`bounded::LOG_RECORD`], or a log longer than
/// [`bounded::LOG_FILE`], is an error.
pub fn scan(path: &Path) -> Result<Scan, LogError> {
    let mut scan = Scan::default();
    let mut entry = 0;
    lines(path, |line, bytes| {
        if bytes.trim_ascii().is_empty() {
            return Ok(());
        }
        entry += 1;
        match serde_json::from_slice::<Record>(bytes) {
            Ok(record) => scan.records.push(Numbered {
                entry,
                line,
                record,
            }),
            Err(e) => {
                let reason = if e.is_eof() {
                    format!(
                        "a torn record (cut short after {} bytes), skipped",
                        bytes.len()
                    )
                } else {
                    format!("not a record ({e}), skipped")
                };
                tracing::warn!("decision log `{}`, line {line}: {reason}", path.display());
                scan.torn.push(Torn {
                    entry,
                    line,
                    reason,
                });
            }
        }
        Ok(())
    })?;
    Ok(scan)
}

/// Every record of the log, oldest first ([`scan`]: lines that are not
/// records are reported and skipped).
pub fn read(path: &Path) -> Result<Vec<Record>, LogError> {
    Ok(scan(path)?.records.into_iter().map(|n| n.record).collect())
}

/// Like [`read`], with each record's 1-based line in the file (blank lines
/// are skipped but counted).
pub fn read_numbered(path: &Path) -> Result<Vec<(usize, Record)>, LogError> {
    Ok(scan(path)?
        .records
        .into_iter()
        .map(|n| (n.line, n.record))
        .collect())
}

/// How many records the log holds (its non-blank lines, torn ones
/// included, as [`Numbered::entry`] counts them), 0 if it does not exist
/// yet; the records are not parsed.
pub fn count(path: &Path) -> Result<usize, LogError> {
    if !path.exists() {
        return Ok(0);
    }
    let mut count = 0;
    lines(path, |_, bytes| {
        if !bytes.trim_ascii().is_empty() {
            count += 1;
        }
        Ok(())
    })?;
    Ok(count)
}

/// Record `number` (1-based, as [`Numbered::entry`] counts; 0 or none for
/// the last record that is whole) of the log. A number that names a torn
/// line is an error saying so.
pub fn record(path: &Path, number: Option<usize>) -> Result<Record, LogError> {
    let scan = scan(path)?;
    let count = scan.records.len() + scan.torn.len();
    let wanted = match number.filter(|n| *n > 0) {
        Some(n) => n,
        None => scan.records.last().map_or(0, |n| n.entry),
    };
    if let Some(torn) = scan.torn.iter().find(|t| t.entry == wanted) {
        return Err(LogError::Invalid {
            path: path.to_owned(),
            line: torn.line,
            message: format!(
                "record {wanted} is {}",
                torn.reason.trim_end_matches(", skipped")
            ),
        });
    }
    scan.records
        .into_iter()
        .find(|n| n.entry == wanted)
        .map(|n| n.record)
        .ok_or_else(|| LogError::NoSuchRecord {
            path: path.to_owned(),
            count,
            wanted,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_model::{Deployment, Measurement, Metric};

    #[test]
    fn a_log_counts_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        assert_eq!(count(&path).unwrap(), 0);
        std::fs::write(&path, "{}\n\n{}\n").unwrap();
        assert_eq!(count(&path).unwrap(), 2);
    }

    /// A record with `samples` canary samples of error rate (a large line).
    fn record(version: &str, samples: usize) -> Record {
        let mut snapshot = Snapshot::new(Deployment {
            service: "checkout".into(),
            environment: "production".into(),
            version: version.into(),
            commit: "8f2c1d0".into(),
            base_commit: None,
            pull_request: None,
            kind: Default::default(),
            severity: None,
            requested_at: Timestamp(1_700_000_000_000),
            utc_offset_minutes: 0,
            actor: None,
        });
        snapshot.metrics.push(Metric {
            name: "error_rate".into(),
            unit: Some("ratio".into()),
            baseline: Measurement::Value(0.001),
            canary: Measurement::Samples(vec![0.001_234_567; samples]),
        });
        Record {
            format: FORMAT_VERSION,
            time: snapshot.deployment.requested_at,
            command: "eval".into(),
            stage: Stage::Canary,
            verdict: Verdict::Go,
            exit_code: crate::exit::ExitCode::Success,
            config: ConfigRef {
                path: "shipgate.toml".into(),
                sha256: "0".repeat(64),
                bundles: Vec::new(),
            },
            policies: Vec::new(),
            snapshot_sha256: snapshot_sha256(&snapshot),
            snapshot,
            report: serde_json::json!({}),
            hooks: Vec::new(),
        }
    }

    fn versions(scan: &Scan) -> Vec<(usize, usize, String)> {
        scan.records
            .iter()
            .map(|n| {
                (
                    n.entry,
                    n.line,
                    n.record.snapshot.deployment.version.clone(),
                )
            })
            .collect()
    }

    /// A write cut short by a kill leaves a line without its end: the next
    /// append starts on a fresh line, and readers skip the torn one, say
    /// where it is, and read on.
    #[test]
    fn an_append_after_a_torn_tail_starts_a_fresh_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        append(&path, &record("1", 10)).unwrap();
        let whole = serde_json::to_string(&record("torn", 5000)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&whole.as_bytes()[..whole.len() / 2])
            .unwrap();
        drop(file);
        append(&path, &record("3", 10)).unwrap();

        let scan = scan(&path).unwrap();
        assert_eq!(
            versions(&scan),
            [(1, 1, "1".to_owned()), (3, 3, "3".to_owned())]
        );
        assert_eq!(scan.torn.len(), 1);
        assert_eq!((scan.torn[0].entry, scan.torn[0].line), (2, 2));
        assert!(
            scan.torn[0]
                .reason
                .starts_with("a torn record (cut short after"),
            "{:?}",
            scan.torn[0]
        );
        assert_eq!(count(&path).unwrap(), 3);
        assert_eq!(read(&path).unwrap().len(), 2);
        // The last whole record, by default; the torn one by number is an
        // error saying so.
        let last = super::record(&path, None).unwrap();
        assert_eq!(last.snapshot.deployment.version, "3");
        let err = super::record(&path, Some(2)).unwrap_err().to_string();
        assert!(err.contains("line 2: record 2 is a torn record"), "{err}");
    }

    /// A log whose last write was cut short: its whole records are read.
    #[test]
    fn a_torn_last_line_is_reported_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        append(&path, &record("1", 10)).unwrap();
        let whole = serde_json::to_string(&record("2", 10)).unwrap();
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&whole.as_bytes()[..40]).unwrap();
        drop(file);
        let scan = scan(&path).unwrap();
        assert_eq!(versions(&scan), [(1, 1, "1".to_owned())]);
        assert_eq!(scan.torn.len(), 1);
        assert_eq!(
            super::record(&path, None)
                .unwrap()
                .snapshot
                .deployment
                .version,
            "1"
        );
    }

    /// Concurrent appenders in threads (the e2e suite does it with
    /// processes): every line is a whole record.
    #[test]
    fn concurrent_appends_do_not_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        std::thread::scope(|scope| {
            for t in 0..4 {
                let path = &path;
                scope.spawn(move || {
                    for i in 0..5 {
                        append(path, &record(&format!("{t}.{i}"), 20_000)).unwrap();
                    }
                });
            }
        });
        let scan = scan(&path).unwrap();
        assert_eq!(scan.torn, []);
        assert_eq!(scan.records.len(), 20);
    }

    #[test]
    fn a_line_past_the_cap_is_an_error_not_an_allocation() {
        let err = scan(Path::new("/dev/zero")).unwrap_err().to_string();
        assert_eq!(
            err,
            "decision log `/dev/zero`, line 1: larger than 80 MiB, the limit for a decision-log record"
        );
        let err = count(Path::new("/dev/zero")).unwrap_err().to_string();
        assert!(err.contains("larger than 80 MiB"), "{err}");
    }

    #[test]
    fn secrets_are_scrubbed_from_the_record() {
        shipgate_core::redact::register("tok-decision-log-secret");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let mut leaky = record("1", 1);
        leaky.report = serde_json::json!({ "error": "Bearer tok-decision-log-secret" });
        append(&path, &leaky).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("tok-decision-log-secret"), "{text}");
        assert!(text.contains("Bearer ***"), "{text}");
    }
}
