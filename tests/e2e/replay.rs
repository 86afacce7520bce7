//! `shipgate eval --log` and `shipgate replay` end to end: a decision log
//! recorded by the real binary from the scenario corpus, replayed under a
//! stricter profile, checked against the library's own evaluation of every
//! scenario under both profiles.
//!
//! The stricter profile is `deployment-coordination` with three thresholds
//! tightened (Fridays blocked, a 1% error-rate ceiling, a 1.5x latency
//! limit), not another playbook profile: no pair of playbook profiles is
//! stricter one way only (each pair flips some decisions both ways), and a
//! copy that differs in three known keys makes "stricter" literal and the
//! expected flips easy to review.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use shipgate_core::config::Config;
use shipgate_engine::outcome::Outcome;
use shipgate_engine::policy_set::PolicySet;
use shipgate_model::{Snapshot, Stage};

use crate::scenarios::scenarios;
use crate::support::{run, shared_cache, shipgate};

/// The profile the log is recorded under.
fn profile_a() -> PathBuf {
    shipgate_tests::workspace().join("examples/profiles/deployment-coordination.toml")
}

/// Profile A with tightened thresholds, written to `dir/stricter.toml`.
fn write_profile_b(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(profile_a()).unwrap();
    for (from, to) in [
        ("\nblocked_days = []\n", "\nblocked_days = [\"friday\"]\n"),
        ("\nmax_error_rate = 0.02\n", "\nmax_error_rate = 0.01\n"),
        ("\nmax_latency_ratio = 2.0\n", "\nmax_latency_ratio = 1.5\n"),
    ] {
        assert_eq!(text.matches(from).count(), 1, "profile A has one `{from}`");
        text = text.replace(from, to);
    }
    let path = dir.join("stricter.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn scenario_path(name: &str) -> PathBuf {
    shipgate_tests::workspace().join(format!("tests/scenarios/{name}.json"))
}

/// Records one decision per scenario with `shipgate eval --log`, in order;
/// returns the time per run.
fn record(log: &Path, config: &Path, names: &[&str]) -> f64 {
    let start = Instant::now();
    for name in names {
        let (code, out, err) = run(shipgate()
            .arg("eval")
            .arg("--snapshot")
            .arg(scenario_path(name))
            .arg("--config")
            .arg(config)
            .arg("--log")
            .arg(log)
            .args(["--format", "json"]));
        assert_ne!(code, 1, "{name}: {out}{err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            code,
            i32::from(
                shipgate_engine::exit::ExitCode::from(
                    report["verdict"]
                        .as_str()
                        .unwrap()
                        .parse::<shipgate_model::Verdict>()
                        .unwrap()
                )
                .code()
            ),
            "{name}"
        );
    }
    start.elapsed().as_secs_f64() / names.len() as f64
}

fn replay(log: &Path, config: &Path, extra: &[&str]) -> (i32, String, String) {
    run(shipgate()
        .arg("replay")
        .arg("--log")
        .arg(log)
        .arg("--config")
        .arg(config)
        .args(extra))
}

fn load(path: &Path) -> PolicySet {
    PolicySet::load(&Config::load(path).unwrap(), &shared_cache()).unwrap()
}

#[test]
fn replay_under_a_stricter_profile_reports_exactly_the_decisions_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let b = write_profile_b(dir.path());
    let corpus = scenarios();
    let names: Vec<&str> = corpus.iter().map(|(n, _)| n.as_str()).collect();
    let per_run = record(&log, &profile_a(), &names);
    eprintln!(
        "shipgate eval --log: {:.3} s per run over {} scenarios",
        per_run,
        names.len()
    );

    // What the library says, each scenario under A and under B on its own.
    let (set_a, set_b) = (load(&profile_a()), load(&b));
    let mut verdict_differs = BTreeSet::new();
    let mut outcome_differs = BTreeSet::new();
    let mut transitions: BTreeMap<String, u64> = BTreeMap::new();
    let mut expected_new = BTreeMap::new();
    for (name, snapshot) in &corpus {
        let stage = snapshot.default_stage();
        let (ra, rb) = (
            set_a.evaluate(stage, snapshot),
            set_b.evaluate(stage, snapshot),
        );
        if ra.verdict != rb.verdict {
            verdict_differs.insert(name.clone());
            *transitions
                .entry(format!("{} → {}", ra.verdict, rb.verdict))
                .or_default() += 1;
        }
        if Outcome::of(&ra) != Outcome::of(&rb) {
            outcome_differs.insert(name.clone());
        }
        expected_new.insert(name.clone(), Outcome::of(&rb));
    }
    eprintln!(
        "under B: {} verdicts differ {verdict_differs:?}, {} outcomes differ",
        verdict_differs.len(),
        outcome_differs.len()
    );
    assert!(!verdict_differs.is_empty(), "B changes no verdict");
    assert!(
        verdict_differs.len() < corpus.len(),
        "B changes every verdict"
    );

    let (code, out, err) = replay(&log, &b, &["--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], corpus.len());
    assert_eq!(v["log"], log.display().to_string());
    assert_eq!(v["config"]["path"], b.display().to_string());
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(v["changed"], entries.len());
    // Entry N is the N-th scenario recorded.
    let scenario = |e: &serde_json::Value| names[e["entry"].as_u64().unwrap() as usize - 1];
    let reported: BTreeSet<String> = entries.iter().map(|e| scenario(e).to_owned()).collect();
    let reported_flips: BTreeSet<String> = entries
        .iter()
        .filter(|e| e["old"]["verdict"] != e["new"]["verdict"])
        .map(|e| scenario(e).to_owned())
        .collect();
    assert_eq!(reported_flips, verdict_differs);
    assert_eq!(reported, outcome_differs);
    for e in entries {
        let name = scenario(e);
        let new: Outcome = serde_json::from_value(e["new"].clone()).unwrap();
        assert_eq!(new, expected_new[name], "{name}");
        let snapshot = &corpus.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(e["service"], snapshot.deployment.service, "{name}");
        assert_eq!(e["version"], snapshot.deployment.version, "{name}");
        assert_eq!(e["environment"], snapshot.deployment.environment, "{name}");
        assert_eq!(e["stage"], snapshot.default_stage().as_str(), "{name}");
        assert_eq!(e["command"], "eval", "{name}");
        assert!(!e["changes"].as_array().unwrap().is_empty(), "{name}");
    }
    let counts: BTreeMap<String, u64> =
        serde_json::from_value(v["verdict_changes"].clone()).unwrap();
    assert_eq!(counts, transitions);
    assert_eq!(
        counts.values().sum::<u64>(),
        verdict_differs.len() as u64,
        "the counts add up"
    );
    // The same components, so no record was decided by another build.
    assert_eq!(v["other_builds"], serde_json::json!({}));

    // `--all` lists every record; the text summary agrees with the JSON.
    let (code, out, _) = replay(&log, &b, &["--format", "json", "--all"]);
    assert_eq!(code, 0);
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(all["entries"].as_array().unwrap().len(), corpus.len());
    let (code, out, _) = replay(&log, &b, &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!(
            "{} records replayed: {} changed ({} verdict changes, {} only in rules/risk), {} unchanged\n",
            corpus.len(),
            outcome_differs.len(),
            verdict_differs.len(),
            outcome_differs.len() - verdict_differs.len(),
            corpus.len() - outcome_differs.len(),
        )),
        "{out}"
    );

    // Replayed under the profile it was recorded under, nothing changes: the
    // logged reports read back as the outcomes a fresh evaluation gives.
    let (code, out, err) = replay(&log, &profile_a(), &["--fail-on-change"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        format!(
            "{0} records replayed: 0 changed (0 verdict changes, 0 only in rules/risk), {0} unchanged\n",
            corpus.len()
        )
    );
}

/// Three records: a Friday deploy (go, no-go once Fridays are blocked), a
/// healthy canary (unchanged) and a canary at exactly 2x latency (hold,
/// rollback under a 1.5x limit), the last one marked as decided by another
/// build of the canary policy.
fn three_record_log(dir: &Path) -> PathBuf {
    let log = dir.join("decisions.jsonl");
    record(
        &log,
        &profile_a(),
        &[
            "41-friday-regular",
            "64-canary-healthy",
            "74-latency-p95-exactly-2x",
        ],
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let canary = lines[2]["policies"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == "canary")
        .unwrap();
    canary["sha256"] = "0".repeat(64).into();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&log, text).unwrap();
    log
}

#[test]
fn replay_text_shows_each_changed_record_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let log = three_record_log(dir.path());
    let b = write_profile_b(dir.path());
    let (code, out, err) = replay(&log, &b, &[]);
    assert_eq!(code, 0, "{out}{err}");
    insta::assert_snapshot!("replay_text", out);

    let (code, all, _) = replay(&log, &b, &["--all"]);
    assert_eq!(code, 0);
    assert_eq!(
        all.matches("\n#").count() + usize::from(all.starts_with('#')),
        3
    );
    assert!(all.contains("  verdict: go (unchanged)\n"), "{all}");
}

#[test]
fn fail_on_change_exits_2_only_when_a_verdict_changed() {
    let dir = tempfile::tempdir().unwrap();
    let log = three_record_log(dir.path());
    let b = write_profile_b(dir.path());
    let (code, out, err) = replay(&log, &b, &["--fail-on-change"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("3 records replayed: 2 changed"), "{out}");
    let (code, out, _) = replay(&log, &profile_a(), &["--fail-on-change"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 records replayed: 0 changed"), "{out}");
    // The other build of `canary` is still said once, whatever changed.
    assert!(
        out.ends_with("1 record was decided by other builds of policy canary\n"),
        "{out}"
    );
    // Without the flag, a change is not a failure.
    let (code, _, _) = replay(&log, &b, &[]);
    assert_eq!(code, 0);
}

#[test]
fn eval_log_appends_a_record_that_eval_from_log_replays() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/decisions.jsonl");
    let snapshot = scenario_path("74-latency-p95-exactly-2x");
    let (code, text, err) = run(shipgate()
        .arg("eval")
        .arg("--snapshot")
        .arg(&snapshot)
        .arg("--config")
        .arg(profile_a())
        .arg("--log")
        .arg(&log));
    assert_eq!(code, 4, "{text}{err}");
    assert!(text.starts_with("HOLD"), "{text}");
    let records = shipgate_engine::decision_log::read(&log).unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.command, "eval");
    assert_eq!(r.stage, Stage::Canary);
    assert_eq!(r.verdict.as_str(), "hold");
    assert_eq!(r.exit_code.code(), 4);
    assert_eq!(
        r.config.sha256,
        Config::load(&profile_a()).unwrap().sha256()
    );
    let snap: Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&snapshot).unwrap()).unwrap();
    assert_eq!(r.snapshot, snap);

    // `--from-log` with `--log` appends the replayed decision as well.
    let (code, _, err) = run(shipgate()
        .arg("eval")
        .arg("--from-log")
        .arg(&log)
        .arg("--config")
        .arg(profile_a())
        .arg("--log")
        .arg(&log));
    assert_eq!(code, 4, "{err}");
    let records = shipgate_engine::decision_log::read(&log).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].snapshot_sha256, records[0].snapshot_sha256);
    // The same decision (the reports differ only in the time each policy
    // took).
    assert_eq!(records[1].verdict, records[0].verdict);
    assert_eq!(records[1].report["findings"], records[0].report["findings"]);

    // Without `--log`, nothing is written.
    let (code, _, _) = run(shipgate()
        .arg("eval")
        .arg("--snapshot")
        .arg(&snapshot)
        .arg("--config")
        .arg(profile_a()));
    assert_eq!(code, 4);
    assert_eq!(shipgate_engine::decision_log::read(&log).unwrap().len(), 2);
}

#[test]
fn replay_errors_name_the_log_and_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = three_record_log(dir.path());
    let lines: Vec<String> = std::fs::read_to_string(&good)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();

    // A line that is not a record (a torn append): reported by its line
    // and skipped, the other records replayed.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, format!("{}\n\nnot json\n", lines[0])).unwrap();
    let (code, out, err) = replay(&bad, &profile_a(), &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 record replayed"), "{out}");
    assert!(
        err.contains(&format!(
            "decision log `{}`, line 3: not a record (expected ident at line 1 column 2), skipped",
            bad.display()
        )),
        "{err}"
    );

    // A record whose report is not a report: named by its line (blank
    // lines counted) and record number.
    let mut record: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    record["report"] = serde_json::json!({"verdict": "maybe"});
    std::fs::write(&bad, format!("{}\n\n{record}\n", lines[0])).unwrap();
    let (code, _, err) = replay(&bad, &profile_a(), &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "decision log `{}`, line 3 (record #2): the logged report cannot be read",
            bad.display()
        )),
        "{err}"
    );

    // A missing log.
    let missing = dir.path().join("missing.jsonl");
    let (code, _, err) = replay(&missing, &profile_a(), &[]);
    assert_eq!(code, 1);
    assert!(err.contains(&missing.display().to_string()), "{err}");
}
