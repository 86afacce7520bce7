//! The scenario corpus: every snapshot in `tests/scenarios/` under every
//! playbook profile in `examples/profiles/`, through the real components.
//!
//! - Each scenario's decisions (one per profile) are an insta snapshot, so
//!   any change to a decision shows up as a diff to review.
//! - A scenario states the verdict the playbook would give in its labels:
//!   `expect` for every profile, `expect.PROFILE` for one; both are asserted.
//! - The same decisions computed natively (the policy crates linked into this
//!   test) must equal the components' decisions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shipgate_core::config::{Config, PolicySource};
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::report::{PolicyOutcome, Report};
use shipgate_model::{Decision, Snapshot, Stage, Verdict};
use shipgate_sdk::testing::evaluate;

use crate::support::shared_cache;

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

fn stem(path: &Path, suffix: &str) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    name.strip_suffix(suffix).unwrap_or(&name).to_owned()
}

/// The playbook profiles (not their CEL twins).
pub fn profiles() -> Vec<(String, Config)> {
    let dir = shipgate_tests::workspace().join("examples/profiles");
    files(&dir, ".toml")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".rules.toml"))
        .map(|p| (stem(&p, ".toml"), Config::load(&p).unwrap()))
        .collect()
}

/// The scenario corpus.
pub fn scenarios() -> Vec<(String, Snapshot)> {
    let dir = shipgate_tests::workspace().join("tests/scenarios");
    files(&dir, ".json")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let snapshot =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (stem(&p, ".json"), snapshot)
        })
        .collect()
}

/// The reviewable part of a report.
fn summary(report: &Report) -> serde_json::Value {
    let policies: BTreeMap<&str, String> = report
        .policies
        .iter()
        .map(|p| {
            let text = match &p.outcome {
                PolicyOutcome::Decided(d) => d.verdict.to_string(),
                PolicyOutcome::Failed(f) => format!("failed ({})", f.kind),
                PolicyOutcome::Skipped => "skipped".to_owned(),
            };
            (p.name.as_str(), text)
        })
        .collect();
    let findings: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.finding.verdict > Verdict::Go)
        .map(|f| {
            format!(
                "{} {}: {}",
                f.finding.verdict, f.finding.rule, f.finding.message
            )
        })
        .collect();
    serde_json::json!({
        "verdict": report.verdict,
        "risk": report.risk,
        "policies": policies,
        "blocking": findings,
        "requirements": report.requirements.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

#[test]
fn the_corpus_is_large_enough_and_every_scenario_says_what_it_tests() {
    let scenarios = scenarios();
    assert!(scenarios.len() >= 40, "{} scenarios", scenarios.len());
    for (name, s) in &scenarios {
        assert!(
            s.labels.contains_key("scenario"),
            "{name}: no `scenario` label"
        );
        assert!(
            s.labels
                .keys()
                .any(|k| k == "expect" || k.starts_with("expect.")),
            "{name}: no expected verdict"
        );
    }
    assert_eq!(profiles().len(), 4, "one profile per playbook");
}

#[test]
fn every_scenario_under_every_profile() {
    let profiles = profiles();
    let sets: Vec<(String, PolicySet)> = profiles
        .iter()
        .map(|(name, config)| {
            (
                name.clone(),
                PolicySet::load(config, &shared_cache()).unwrap(),
            )
        })
        .collect();
    let mut wrong = Vec::new();
    for (name, snapshot) in scenarios() {
        let stage = snapshot.default_stage();
        let mut decisions = BTreeMap::new();
        for (profile, set) in &sets {
            let report = set.evaluate(stage, &snapshot);
            let expected = snapshot
                .labels
                .get(&format!("expect.{profile}"))
                .or_else(|| snapshot.labels.get("expect"));
            if let Some(expected) = expected {
                let expected: Verdict = expected.parse().unwrap();
                if report.verdict != expected {
                    wrong.push(format!(
                        "{name} under {profile}: expected {expected}, got {}",
                        report.verdict
                    ));
                }
            }
            decisions.insert(profile.clone(), summary(&report));
        }
        insta::with_settings!({ description => snapshot.labels.get("scenario").cloned().unwrap_or_default(), omit_expression => true }, {
            insta::assert_json_snapshot!(format!("scenario-{name}"), decisions);
        });
    }
    assert!(
        wrong.is_empty(),
        "verdicts differ from the playbooks:\n{}",
        wrong.join("\n")
    );
}

/// A built-in policy evaluated natively.
fn native(
    builtin: &str,
    stage: Stage,
    snapshot: &Snapshot,
    config: &str,
) -> Result<Decision, String> {
    match builtin {
        "env" => evaluate::<shipgate_policy_env::EnvPolicy>(stage, snapshot, config),
        "readiness" => evaluate::<shipgate_policy_readiness::Readiness>(stage, snapshot, config),
        "risk" => evaluate::<shipgate_policy_risk::Risk>(stage, snapshot, config),
        "window" => evaluate::<shipgate_policy_window::Window>(stage, snapshot, config),
        "canary" => evaluate::<shipgate_policy_canary::Canary>(stage, snapshot, config),
        "verify" => evaluate::<shipgate_policy_verify::Verify>(stage, snapshot, config),
        "error-ratio" => evaluate::<error_ratio_policy::ErrorRatio>(stage, snapshot, config),
        other => panic!("no native twin for builtin `{other}`"),
    }
}

#[test]
fn native_and_wasm_agree_on_the_whole_corpus() {
    let mut compared = 0;
    for (profile, config) in profiles() {
        let set = PolicySet::load(&config, &shared_cache()).unwrap();
        for (name, snapshot) in scenarios() {
            let stage = snapshot.default_stage();
            let report = set.evaluate(stage, &snapshot);
            for (policy, result) in config.policies.iter().zip(&report.policies) {
                let PolicySource::Builtin(builtin) = &policy.source else {
                    continue;
                };
                let PolicyOutcome::Decided(wasm) = &result.outcome else {
                    continue;
                };
                let native = native(builtin, stage, &snapshot, &policy.config.to_string())
                    .unwrap_or_else(|e| panic!("{name}/{profile}/{builtin}: {e}"));
                assert_eq!(&native, wasm, "{name} under {profile}, policy {builtin}");
                compared += 1;
            }
        }
    }
    assert!(compared > 100, "only {compared} decisions compared");
}
