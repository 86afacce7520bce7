//! Shadow evaluation: replay every decision of a decision log under another
//! set of policies and show which decisions would have come out otherwise.
//!
//! Each record's snapshot is evaluated again at its recorded stage; the
//! logged report's [`Outcome`] is compared with the new report's. Nothing is
//! collected and nothing is written: the log holds everything a policy saw.
//!
//! A record made under another configuration than the one replayed is the
//! point of a replay and is not remarked on. A record whose policy of some
//! name was another build (component sha256) than the one loaded now is: that
//! explains changes too, so the summary says how many records that concerns.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::ser::SerializeMap as _;
use shipgate_model::{Stage, Timestamp, Verdict};

use crate::decision_log::{self, ConfigRef, FORMAT_VERSION, LogError, Record};
use crate::outcome::{Difference, Outcome};
use crate::policy_set::PolicySet;

/// Why a log could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The log could not be read, or a line is not a record.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A record could not be replayed (its report is not one, its format is
    /// newer than this build reads).
    #[error("decision log `{}`, line {line} (record #{entry}): {message}", path.display())]
    Record {
        /// The log file.
        path: PathBuf,
        /// The 1-based line of the record.
        line: usize,
        /// The 1-based record number (as `eval --from-log --entry` counts).
        entry: usize,
        /// What is wrong.
        message: String,
    },
}

/// One record of a log with where it stands in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// The 1-based record number (blank lines are not counted, torn ones
    /// are).
    pub entry: usize,
    /// The 1-based line in the file.
    pub line: usize,
    /// The record.
    pub record: Record,
}

/// A decision log's records, read for a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    /// The file.
    pub path: PathBuf,
    /// Its records, oldest first.
    pub records: Vec<Logged>,
}

impl Log {
    /// Reads every record of the log at `path` ([`decision_log::scan`]); a
    /// line that is not a record (a torn append) is reported as a warning
    /// naming its line and skipped, its number left unused.
    pub fn read(path: &Path) -> Result<Log, ReplayError> {
        let records = decision_log::scan(path)?
            .records
            .into_iter()
            .map(|n| Logged {
                entry: n.entry,
                line: n.line,
                record: n.record,
            })
            .collect();
        Ok(Log {
            path: path.to_owned(),
            records,
        })
    }

    /// A log of records not read from a file, numbered as if each were on its
    /// own line.
    pub fn from_records(path: &Path, records: Vec<Record>) -> Log {
        Log {
            path: path.to_owned(),
            records: records
                .into_iter()
                .enumerate()
                .map(|(i, record)| Logged {
                    entry: i + 1,
                    line: i + 1,
                    record,
                })
                .collect(),
        }
    }
}

/// One replayed record: the logged outcome, the new one, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replayed {
    /// The 1-based record number.
    pub entry: usize,
    /// The 1-based line of the record in the log.
    pub line: usize,
    /// When the decision was made.
    pub time: Timestamp,
    /// The service deployed.
    pub service: String,
    /// The target environment.
    pub environment: String,
    /// The version deployed.
    pub version: String,
    /// The question asked, then and now.
    pub stage: Stage,
    /// The command that made the logged decision (`check`, `watch`, `eval`).
    pub command: String,
    /// The logged outcome.
    pub old: Outcome,
    /// The outcome under the replayed policies.
    pub new: Outcome,
    /// `old.diff(&new)`: empty when nothing changed.
    pub changes: Vec<Difference>,
}

impl Replayed {
    /// Compares a logged outcome with a new one for `logged`.
    pub fn new(logged: &Logged, old: Outcome, new: Outcome) -> Replayed {
        let deployment = &logged.record.snapshot.deployment;
        Replayed {
            entry: logged.entry,
            line: logged.line,
            time: logged.record.time,
            service: deployment.service.clone(),
            environment: deployment.environment.clone(),
            version: deployment.version.clone(),
            stage: logged.record.stage,
            command: logged.record.command.clone(),
            changes: old.diff(&new),
            old,
            new,
        }
    }

    /// Whether anything in the outcome changed.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Whether the verdict changed.
    pub fn verdict_changed(&self) -> bool {
        self.old.verdict != self.new.verdict
    }
}

/// The result of replaying a log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Replay {
    /// Every record, in log order.
    pub entries: Vec<Replayed>,
    /// Policy name → how many records were decided by another build of it
    /// (another component sha256) than the one loaded now.
    pub other_builds: BTreeMap<String, usize>,
}

/// Replays every record of `log` under `policies`: each snapshot evaluated
/// again at its recorded stage, the new outcome compared with the logged one.
///
/// A record whose report cannot be read as an outcome, or whose format is
/// newer than this build's, is an error naming the log's line. A record whose
/// stage the new policies skip entirely is not: its new outcome is whatever
/// the set gives (`go` with nothing fired).
pub fn replay(log: &Log, policies: &PolicySet) -> Result<Replay, ReplayError> {
    let loaded: BTreeMap<&str, &str> = policies
        .policies()
        .map(|(name, policy)| (name, policy.sha256()))
        .collect();
    let mut replay = Replay::default();
    for logged in &log.records {
        let record = &logged.record;
        let error = |message: String| ReplayError::Record {
            path: log.path.clone(),
            line: logged.line,
            entry: logged.entry,
            message,
        };
        if record.format > FORMAT_VERSION {
            return Err(error(format!(
                "record format {} is newer than this shipgate reads ({FORMAT_VERSION})",
                record.format
            )));
        }
        let old = Outcome::of_json(&record.report)
            .map_err(|e| error(format!("the logged report cannot be read: {e}")))?;
        let new = Outcome::of(&policies.evaluate(record.stage, &record.snapshot));
        for name in other_builds(record, &loaded) {
            *replay.other_builds.entry(name.to_owned()).or_default() += 1;
        }
        replay.entries.push(Replayed::new(logged, old, new));
    }
    Ok(replay)
}

/// The names of `record`'s policies that were another build than the one
/// loaded now under the same name.
fn other_builds<'a>(record: &'a Record, loaded: &BTreeMap<&str, &str>) -> Vec<&'a str> {
    let mut names: Vec<&str> = record
        .policies
        .iter()
        .filter(|p| {
            loaded
                .get(p.name.as_str())
                .is_some_and(|now| *now != p.sha256)
        })
        .map(|p| p.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

impl Replay {
    /// How many records changed in any way.
    pub fn changed(&self) -> usize {
        self.entries.iter().filter(|e| e.changed()).count()
    }

    /// How many records changed their verdict.
    pub fn verdict_changed(&self) -> usize {
        self.entries.iter().filter(|e| e.verdict_changed()).count()
    }

    /// Each verdict transition (`go → rollback`) with how many records made
    /// it, the most frequent first, ties by name.
    pub fn verdict_changes(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<(Verdict, Verdict), usize> = BTreeMap::new();
        for e in self.entries.iter().filter(|e| e.verdict_changed()) {
            *counts.entry((e.old.verdict, e.new.verdict)).or_default() += 1;
        }
        let mut out: Vec<(String, usize)> = counts
            .into_iter()
            .map(|((old, new), n)| (format!("{old} → {new}"), n))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// The records to show: the changed ones, or every one with `all`.
    pub fn shown(&self, all: bool) -> impl Iterator<Item = &Replayed> {
        self.entries.iter().filter(move |e| all || e.changed())
    }

    /// The text report: one block per changed record (every record with
    /// `all`), then the summary.
    pub fn text(&self, all: bool) -> String {
        let mut out = String::new();
        for e in self.shown(all) {
            let _ = writeln!(
                out,
                "#{}  {}  {} {} → {}  {}  ({})",
                e.entry, e.time, e.service, e.version, e.environment, e.stage, e.command
            );
            if e.verdict_changed() {
                let _ = writeln!(out, "  verdict: {} → {}", e.old.verdict, e.new.verdict);
            } else {
                let _ = writeln!(out, "  verdict: {} (unchanged)", e.old.verdict);
            }
            // The verdict line above says it; the other changes follow.
            for c in e
                .changes
                .iter()
                .filter(|c| !matches!(c, Difference::Verdict { .. }))
            {
                let _ = writeln!(out, "    {c}");
            }
            out.push('\n');
        }
        out.push_str(&self.summary());
        // The records' strings (and the policies' words in them) cannot
        // drive the terminal.
        shipgate_core::escape::escape_lines(&out).into_owned()
    }

    /// The summary: counts, verdict transitions, and the policies that were
    /// other builds when the records were made.
    pub fn summary(&self) -> String {
        let (records, changed, verdicts) =
            (self.entries.len(), self.changed(), self.verdict_changed());
        let mut out = format!(
            "{} replayed: {changed} changed ({}, {} only in rules/risk), {} unchanged\n",
            plural(records, "record", "records"),
            plural(verdicts, "verdict change", "verdict changes"),
            changed - verdicts,
            records - changed,
        );
        for (transition, n) in self.verdict_changes() {
            let _ = writeln!(out, "  {transition}: {n}");
        }
        for (policy, n) in &self.other_builds {
            let _ = writeln!(
                out,
                "{} decided by other builds of policy {policy}",
                plural(*n, "record was", "records were")
            );
        }
        out
    }

    /// The JSON report (`--format json`), pretty-printed, for the log at
    /// `log` replayed under `config`: the changed records, every one with
    /// `all`.
    pub fn json(&self, log: &Path, config: &ConfigRef, all: bool) -> String {
        let doc = JsonReport {
            log: log.display().to_string(),
            config,
            records: self.entries.len(),
            changed: self.changed(),
            verdict_changes: Ordered(self.verdict_changes()),
            other_builds: &self.other_builds,
            entries: self.shown(all).collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// `1 record`, `2 records`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The `--format json` document.
#[derive(Serialize)]
struct JsonReport<'a> {
    log: String,
    config: &'a ConfigRef,
    records: usize,
    changed: usize,
    verdict_changes: Ordered,
    other_builds: &'a BTreeMap<String, usize>,
    entries: Vec<&'a Replayed>,
}

/// A JSON object whose keys keep this order (most frequent first).
struct Ordered(Vec<(String, usize)>);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision_log::PolicyRef;
    use shipgate_model::{Deployment, Snapshot};

    fn record(n: usize, verdict: Verdict, policies: &[(&str, &str)]) -> Record {
        let mut snapshot = Snapshot::new(Deployment {
            service: "checkout".into(),
            environment: "production".into(),
            version: format!("2.14.{n}"),
            commit: "9c1e4f2a7b".into(),
            base_commit: None,
            pull_request: None,
            kind: Default::default(),
            severity: None,
            requested_at: "2026-11-20T14:05:00Z".parse().unwrap(),
            utc_offset_minutes: 0,
            actor: None,
        });
        snapshot.deployment.requested_at.0 += 60_000 * n as i64;
        Record {
            format: FORMAT_VERSION,
            time: snapshot.deployment.requested_at,
            command: "check".into(),
            stage: Stage::Gate,
            verdict,
            exit_code: crate::exit::ExitCode::from(verdict),
            config: ConfigRef {
                path: "shipgate.toml".into(),
                sha256: "c0".into(),
                bundles: Vec::new(),
            },
            policies: policies
                .iter()
                .map(|(name, sha256)| PolicyRef {
                    name: (*name).into(),
                    sha256: (*sha256).into(),
                })
                .collect(),
            snapshot_sha256: String::new(),
            snapshot,
            report: serde_json::json!({"verdict": verdict}),
            hooks: Vec::new(),
        }
    }

    fn outcome(verdict: Verdict, rules: &[(&str, Verdict)]) -> Outcome {
        let findings: Vec<_> = rules
            .iter()
            .map(|(rule, v)| serde_json::json!({"rule": rule, "verdict": v}))
            .collect();
        Outcome::of_json(&serde_json::json!({"verdict": verdict, "findings": findings})).unwrap()
    }

    /// A replay of records whose old and new outcomes are given.
    fn replay_of(pairs: Vec<(Outcome, Outcome)>) -> Replay {
        let log = Log::from_records(
            Path::new("d.jsonl"),
            (0..pairs.len())
                .map(|i| record(i, Verdict::Go, &[]))
                .collect(),
        );
        Replay {
            entries: log
                .records
                .iter()
                .zip(pairs)
                .map(|(l, (old, new))| Replayed::new(l, old, new))
                .collect(),
            other_builds: BTreeMap::new(),
        }
    }

    fn go() -> Outcome {
        outcome(Verdict::Go, &[])
    }

    fn flip(from: Verdict, to: Verdict) -> (Outcome, Outcome) {
        (outcome(from, &[]), outcome(to, &[("x.rule", to)]))
    }

    #[test]
    fn counts_changes_and_orders_transitions_by_count_then_name() {
        let r = replay_of(vec![
            flip(Verdict::Go, Verdict::NoGo),
            (go(), go()),
            flip(Verdict::Go, Verdict::Hold),
            flip(Verdict::Go, Verdict::NoGo),
            flip(Verdict::Hold, Verdict::Go),
            // Only a rule changed: changed, but not a verdict change.
            (
                outcome(Verdict::Hold, &[("a", Verdict::Hold)]),
                outcome(Verdict::Hold, &[("b", Verdict::Hold)]),
            ),
            (go(), go()),
        ]);
        assert_eq!(r.entries.len(), 7);
        assert_eq!(r.changed(), 5);
        assert_eq!(r.verdict_changed(), 4);
        assert_eq!(
            r.verdict_changes(),
            [
                ("go → no-go".to_owned(), 2),
                ("go → hold".to_owned(), 1),
                ("hold → go".to_owned(), 1),
            ]
        );
        assert_eq!(
            r.summary(),
            "7 records replayed: 5 changed (4 verdict changes, 1 only in rules/risk), 2 unchanged\n\
             \x20 go → no-go: 2\n\
             \x20 go → hold: 1\n\
             \x20 hold → go: 1\n"
        );
        assert_eq!(r.shown(false).count(), 5);
        assert_eq!(r.shown(true).count(), 7);
    }

    #[test]
    fn text_shows_changed_records_with_their_diff_and_all_shows_the_rest() {
        let r = replay_of(vec![
            (go(), go()),
            (
                outcome(Verdict::Go, &[]),
                outcome(
                    Verdict::Rollback,
                    &[("canary.error-rate", Verdict::Rollback)],
                ),
            ),
        ]);
        assert_eq!(
            r.text(false),
            "#2  2026-11-20T14:06:00Z  checkout 2.14.1 → production  gate  (check)\n\
             \x20 verdict: go → rollback\n\
             \x20   + rule canary.error-rate = rollback\n\
             \n\
             2 records replayed: 1 changed (1 verdict change, 0 only in rules/risk), 1 unchanged\n\
             \x20 go → rollback: 1\n"
        );
        let all = r.text(true);
        assert!(
            all.starts_with(
                "#1  2026-11-20T14:05:00Z  checkout 2.14.0 → production  gate  (check)\n\
                 \x20 verdict: go (unchanged)\n\n#2  "
            ),
            "{all}"
        );
    }

    #[test]
    fn nothing_changed_says_so() {
        let r = replay_of(vec![(go(), go())]);
        assert_eq!(
            r.text(false),
            "1 record replayed: 0 changed (0 verdict changes, 0 only in rules/risk), 1 unchanged\n"
        );
    }

    #[test]
    fn json_lists_counts_in_order_and_the_changed_entries() {
        let mut r = replay_of(vec![
            flip(Verdict::Go, Verdict::Hold),
            flip(Verdict::Go, Verdict::NoGo),
            flip(Verdict::Go, Verdict::NoGo),
            (go(), go()),
        ]);
        r.other_builds.insert("canary".into(), 2);
        let config = ConfigRef {
            path: "new.toml".into(),
            sha256: "abc".into(),
            bundles: Vec::new(),
        };
        let text = r.json(Path::new("d.jsonl"), &config, false);
        // Most frequent transition first, in the text itself.
        let nogo = text.find("\"go → no-go\": 2").unwrap();
        let hold = text.find("\"go → hold\": 1").unwrap();
        assert!(nogo < hold, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["log"], "d.jsonl");
        assert_eq!(v["config"]["path"], "new.toml");
        assert_eq!(v["records"], 4);
        assert_eq!(v["changed"], 3);
        assert_eq!(v["other_builds"]["canary"], 2);
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        let e = &entries[1];
        assert_eq!(e["entry"], 2);
        assert_eq!(e["time"], "2026-11-20T14:06:00Z");
        assert_eq!(e["service"], "checkout");
        assert_eq!(e["environment"], "production");
        assert_eq!(e["version"], "2.14.1");
        assert_eq!(e["stage"], "gate");
        assert_eq!(e["command"], "check");
        assert_eq!(e["old"]["verdict"], "go");
        assert_eq!(e["new"]["verdict"], "no-go");
        assert_eq!(e["new"]["rules"]["x.rule"], "no-go");
        assert_eq!(e["changes"][0]["what"], "verdict");
        assert_eq!(e["changes"][1]["what"], "rule");
        assert_eq!(
            r.json(Path::new("d.jsonl"), &config, true)
                .matches("\"entry\"")
                .count(),
            4
        );
    }

    #[test]
    fn other_builds_compare_by_name_and_ignore_policies_not_loaded_now() {
        let loaded = BTreeMap::from([("canary", "aa"), ("env", "bb")]);
        let r = record(
            0,
            Verdict::Go,
            &[("canary", "zz"), ("env", "bb"), ("gone", "cc")],
        );
        assert_eq!(other_builds(&r, &loaded), ["canary"]);
        let mut replay = replay_of(vec![(go(), go()), (go(), go())]);
        replay.other_builds.insert("canary".into(), 2);
        replay.other_builds.insert("env".into(), 1);
        assert!(
            replay.summary().ends_with(
                "2 records were decided by other builds of policy canary\n\
                 1 record was decided by other builds of policy env\n"
            ),
            "{}",
            replay.summary()
        );
    }

    #[test]
    fn a_log_numbers_its_records_by_line_skipping_blank_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        let line = |n| serde_json::to_string(&record(n, Verdict::Go, &[])).unwrap();
        std::fs::write(&path, format!("{}\n\n  \n{}\n", line(0), line(1))).unwrap();
        let log = Log::read(&path).unwrap();
        let at: Vec<(usize, usize)> = log.records.iter().map(|l| (l.entry, l.line)).collect();
        assert_eq!(at, [(1, 1), (2, 4)]);
        assert_eq!(log.records[1].record.snapshot.deployment.version, "2.14.1");
    }
}
