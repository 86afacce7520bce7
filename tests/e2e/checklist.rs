//! The Markdown deployment checklist (`shipgate check`'s step summary) says
//! what the policies found and no more: a line with nothing reported is not
//! `PASSED`, a line whose data is unknown is not `FAILED`. Real components,
//! a real profile, scenarios from the corpus.

use shipgate::render::markdown_summary;
use shipgate_core::config::Config;
use shipgate_engine::policy_set::PolicySet;
use shipgate_model::{Snapshot, Stage};

use crate::support::shared_cache;

fn profile(name: &str) -> PolicySet {
    let path = shipgate_tests::workspace().join(format!("examples/profiles/{name}.toml"));
    PolicySet::load(&Config::load(&path).unwrap(), &shared_cache()).unwrap()
}

fn scenario(name: &str) -> Snapshot {
    let path = shipgate_tests::workspace().join(format!("tests/scenarios/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The checklist table of the Markdown summary (up to the data collected).
fn checklist(set: &PolicySet, snapshot: &Snapshot) -> String {
    let report = set.evaluate(Stage::Gate, snapshot);
    let text = markdown_summary(&report, snapshot);
    let start = text.find("### Deployment checklist").unwrap();
    let end = text[start..].find("| **Data collected**").unwrap() + start;
    text[start..end].to_owned()
}

/// The cell of the row labelled `label`.
fn row<'a>(checklist: &'a str, label: &str) -> &'a str {
    let prefix = format!("| {label} | ");
    checklist
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no row `{label}` in\n{checklist}"))
}

#[test]
fn no_artifact_reported_is_not_a_pass() {
    let set = profile("deployment-coordination");
    let mut snapshot = scenario("01-all-clear-gate");
    snapshot.ci.as_mut().unwrap().artifacts.clear();
    let text = checklist(&set, &snapshot);
    let cell = row(&text, "Artifacts built");
    assert!(!cell.contains("PASSED"), "{cell}");
    assert_eq!(cell, "— not reported |");
    // With the artifact reported and built, it passes and says how many.
    let text = checklist(&set, &scenario("01-all-clear-gate"));
    assert_eq!(row(&text, "Artifacts built"), "✅ PASSED — 1 built |");
}

#[test]
fn an_unknown_merge_state_is_unknown_not_failed() {
    let set = profile("deployment-coordination");
    let text = checklist(&set, &scenario("24-merge-state-unknown"));
    let cell = row(&text, "No merge conflicts");
    assert!(cell.starts_with("❔ UNKNOWN"), "{cell}");
    assert!(!cell.contains("FAILED"), "{cell}");
    // A real conflict still fails.
    let text = checklist(&set, &scenario("21-merge-conflict"));
    assert!(row(&text, "No merge conflicts").starts_with("❌ FAILED"));
}

#[test]
fn skipped_tests_are_not_counted_as_run_and_coverage_without_a_minimum_is_not_checked() {
    let set = profile("deployment-coordination");
    let text = checklist(&set, &scenario("01-all-clear-gate"));
    // 812 + 240 tests, 4 of them skipped.
    assert_eq!(
        row(&text, "All tests passing"),
        "✅ PASSED — 1048 tests run (4 skipped) in 2 suites, 4 checks |"
    );
    // deployment-coordination sets no coverage minimum (000 states none).
    assert_eq!(row(&text, "Coverage"), "— not checked — 97.0% |");
}

#[test]
fn the_checklist_of_the_misleading_cases() {
    let set = profile("deployment-coordination");
    let mut no_artifacts = scenario("01-all-clear-gate");
    no_artifacts.ci.as_mut().unwrap().artifacts.clear();
    let cases = [
        ("all clear, no artifact reported", no_artifacts),
        ("merge state unknown", scenario("24-merge-state-unknown")),
        ("behind its base", scenario("22-behind-base")),
        (
            "required check pending",
            scenario("12-required-check-pending"),
        ),
    ];
    let mut out = String::new();
    for (name, snapshot) in cases {
        out.push_str(&format!("## {name}\n{}\n", checklist(&set, &snapshot)));
    }
    insta::assert_snapshot!("checklist-misleading-cases", out);
}
