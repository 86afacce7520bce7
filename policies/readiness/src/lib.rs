//! Shipgate built-in policy `readiness`: the pre-deploy checklist.
//!
//! Required CI checks passed, tests pass, coverage meets the minimum,
//! artifacts are built, the change merges cleanly and is up to date, nobody
//! requested changes, and the environment's number of human approvals is met.
//!
//! Rules:
//!
//! | rule | verdict |
//! |---|---|
//! | [`RULE_NOT_COLLECTED`] | `hold`: CI was not collected, or `ci` / `github` / `junit` / `coverage` has a gap |
//! | [`RULE_CHECK_FAILED`] | `no-go`: a required check failed, was cancelled, timed out or needs action |
//! | [`RULE_CHECK_MISSING`] | `no-go`: a required check is not reported |
//! | [`RULE_CHECK_PENDING`] | `hold`: a required check is pending or stale |
//! | [`RULE_TESTS_FAILED`] | `no-go`: a suite has failures or errors |
//! | [`RULE_NO_TESTS`] | `hold`: no tests ran (only with `require_tests = true`) |
//! | [`RULE_COVERAGE`] | `no-go` below `min_coverage_percent` (or not above `{ above = N }`), `hold` when not reported, `go` otherwise |
//! | [`RULE_ARTIFACT_NOT_BUILT`] | `no-go`: an artifact was not built (`require_artifacts_built`) |
//! | [`RULE_MERGE_CONFLICT`] | `no-go`: the change conflicts with its base |
//! | [`RULE_BEHIND_BASE`] | `hold` (or per `behind_base`): the branch is behind its base |
//! | [`RULE_MERGE_BLOCKED`] | `no-go`: branch protection blocks the merge |
//! | [`RULE_MERGE_UNKNOWN`] | `hold` (or per `unknown_merge_state`): the merge state is not known |
//! | [`RULE_CHANGES_REQUESTED`] | `no-go`: a person's latest review requests changes |
//! | [`RULE_APPROVALS`] | `no-go` below `min_approvals` for the environment (or its `"*"` entry), `go` at or above or when waived for a hotfix |
//! | [`RULE_OK`] | `go` summary of the checks that passed |
//!
//! A reviewer's state is their latest review that is not a plain comment
//! (latest by `at` when all of their reviews have one, otherwise the last in
//! the list); a dismissed latest review counts neither way. When a check is
//! reported several times, the last report wins.
//!
//! When `ci` or `github` has a gap, what is absent proves nothing: a missing
//! required check and too few approvals defer to the `not-collected` hold,
//! while failures that are in the data are still reported.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use shipgate_sdk::prelude::*;
use shipgate_sdk::{Approval, Check, CheckConclusion, Ci, DeployKind, MergeState, ReviewState};
use shipgate_sdk::{Severity, TestSuite};

shipgate_sdk::rules! {
    pub RULE_NOT_COLLECTED = "readiness.not-collected"
        => "CI results were not collected, or the ci, github, junit or coverage source has \
            a gap (hold, one per gap)",
    pub RULE_CHECK_FAILED = "readiness.check-failed"
        => "a required check concluded failure, cancelled, timed-out or action-required \
            (no-go)",
    pub RULE_CHECK_MISSING = "readiness.check-missing"
        => "a check named in required_checks is not reported (no-go)",
    pub RULE_CHECK_PENDING = "readiness.check-pending"
        => "a required check is pending or stale (hold)",
    pub RULE_TESTS_FAILED = "readiness.tests-failed"
        => "a test suite has failures or errors (no-go, one per suite)",
    pub RULE_NO_TESTS = "readiness.no-tests"
        => "no suite ran a test, with require_tests = true (hold)",
    pub RULE_COVERAGE = "readiness.coverage"
        => "coverage against min_coverage_percent: no-go below it (or not strictly above \
            it with { above = N }), hold when not reported, go otherwise",
    pub RULE_ARTIFACT_NOT_BUILT = "readiness.artifact-not-built"
        => "an artifact was not built, with require_artifacts_built = true (no-go, one per \
            artifact)",
    pub RULE_MERGE_CONFLICT = "readiness.merge-conflict"
        => "the change conflicts with its base (no-go)",
    pub RULE_BEHIND_BASE = "readiness.behind-base"
        => "the branch is behind its base (hold, or no-go per behind_base)",
    pub RULE_MERGE_BLOCKED = "readiness.merge-blocked"
        => "branch protection blocks the merge (no-go)",
    pub RULE_MERGE_UNKNOWN = "readiness.merge-unknown"
        => "the merge state is unknown or absent (hold, unless unknown_merge_state ignores \
            it)",
    pub RULE_CHANGES_REQUESTED = "readiness.changes-requested"
        => "a person's latest review requests changes (no-go, one per person)",
    pub RULE_APPROVALS = "readiness.approvals"
        => "distinct approving reviewers against min_approvals for the environment (or its \
            \"*\" entry): no-go \
            below it, go at or above or when waived for a P0/P1 hotfix",
    pub RULE_OK = "readiness.ok" => "the checks that passed (go summary)",
}

/// The `min_approvals` key for every environment not listed.
pub const ANY_ENVIRONMENT: &str = "*";

/// The snapshot sources whose gaps this policy reports.
pub const SOURCES: [&str; 4] = ["ci", "github", "junit", "coverage"];

/// What to do when the branch is behind its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BehindBase {
    /// Hold until the branch is updated.
    #[default]
    Hold,
    /// Refuse.
    NoGo,
    /// Not checked.
    Ignore,
}

/// What to do when the merge state is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownMergeState {
    /// Hold until it is known.
    #[default]
    Hold,
    /// Not checked.
    Ignore,
}

/// The coverage bar, `min_coverage_percent`: a number is a minimum that
/// passes at exactly the number (`95` passes 95.00%); `{ at_least = N }` is
/// the same, written out; `{ above = N }` passes only strictly above `N`
/// (a playbook's "> 95%": 95.00% does not pass).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoverageBar {
    /// The percentage.
    pub percent: f64,
    /// Whether coverage must be strictly above `percent`.
    pub strict: bool,
}

impl CoverageBar {
    /// Whether `value` clears the bar.
    pub fn passes(self, value: f64) -> bool {
        if self.strict {
            value > self.percent
        } else {
            value >= self.percent
        }
    }

    /// The comparison, as evidence shows it (`>= 95%`, `> 95%`).
    fn expected(self) -> String {
        let op = if self.strict { ">" } else { ">=" };
        format!("{op} {}%", self.percent)
    }

    /// What is required, in words (`at least 95%`, `more than 95%`).
    fn required(self) -> String {
        let words = if self.strict { "more than" } else { "at least" };
        format!("{words} {}%", self.percent)
    }
}

impl<'de> Deserialize<'de> for CoverageBar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The table form: exactly one of the two keys.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            above: Option<f64>,
            at_least: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Number(f64),
            Table(Table),
        }
        const EXPECTED: &str = "must be a percentage (at least it, e.g. 95), `{ at_least = 95 }` \
                                or `{ above = 95 }` (strictly above)";
        match Form::deserialize(deserializer).map_err(|_| serde::de::Error::custom(EXPECTED))? {
            Form::Number(percent) => Ok(CoverageBar {
                percent,
                strict: false,
            }),
            Form::Table(Table {
                above: Some(percent),
                at_least: None,
            }) => Ok(CoverageBar {
                percent,
                strict: true,
            }),
            Form::Table(Table {
                above: None,
                at_least: Some(percent),
            }) => Ok(CoverageBar {
                percent,
                strict: false,
            }),
            Form::Table(_) => Err(serde::de::Error::custom(
                "give exactly one of `above` (strictly above) and `at_least`",
            )),
        }
    }
}

/// The `config` table of the `readiness` policy in `shipgate.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Check names that must pass, besides the checks the snapshot marks
    /// `required` (default none).
    pub required_checks: Vec<String>,
    /// The line coverage bar in percent: a number or `{ at_least = N }`
    /// passes at `N`, `{ above = N }` only strictly above it; `None` (the
    /// default) does not check.
    pub min_coverage_percent: Option<CoverageBar>,
    /// Every reported artifact must be built (default `true`).
    pub require_artifacts_built: bool,
    /// Hold when no tests ran (default `false`).
    pub require_tests: bool,
    /// A branch behind its base: `hold` (default), `no-go` or `ignore`.
    pub behind_base: BehindBase,
    /// An unknown merge state: `hold` (default) or `ignore`.
    pub unknown_merge_state: UnknownMergeState,
    /// Human approvals needed per environment (default `{ production = 1 }`).
    /// An environment not listed needs the `"*"` entry's number, or none
    /// without one (`{ "*" = 1, production = 2 }`: one everywhere, two for
    /// production). Setting the key replaces the whole table.
    pub min_approvals: BTreeMap<String, u32>,
    /// Count approvals by bots too (default `false`).
    pub count_bot_approvals: bool,
    /// A P0 or P1 hotfix needs no approvals (default `false`).
    pub allow_hotfix_without_approval: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            required_checks: Vec::new(),
            min_coverage_percent: None,
            require_artifacts_built: true,
            require_tests: false,
            behind_base: BehindBase::Hold,
            unknown_merge_state: UnknownMergeState::Hold,
            min_approvals: BTreeMap::from([("production".to_owned(), 1)]),
            count_bot_approvals: false,
            allow_hotfix_without_approval: false,
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct Readiness;

impl Policy for Readiness {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "readiness",
            "the pre-deploy checklist: checks, tests, coverage, artifacts, merge state, approvals",
        )
        .stages(&[Stage::Gate])
        .reads(&[Section::Ci, Section::Deployment])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        for (i, name) in config.required_checks.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(ConfigError::new(
                    format!("required_checks[{i}]"),
                    "must be a check name, got an empty string",
                ));
            }
        }
        if let Some(bar) = config.min_coverage_percent
            && !(0.0..=100.0).contains(&bar.percent)
        {
            let min = bar.percent;
            return Err(ConfigError::new(
                "min_coverage_percent",
                format!("must be a percentage in [0, 100], got {min}"),
            ));
        }
        if config.min_approvals.keys().any(|k| k.trim().is_empty()) {
            return Err(ConfigError::new(
                "min_approvals",
                "keys must be environment names, got an empty string",
            ));
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

/// The rules, as a plain function (unit tested and benchmarked natively).
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let mut findings = Vec::new();
    for gap in SOURCES.iter().filter_map(|s| snapshot.gap(s)) {
        findings.push(Finding::hold(
            RULE_NOT_COLLECTED,
            format!(
                "{} could not be read, so CI results may be incomplete: {}",
                gap.source, gap.reason
            ),
        ));
    }
    let Some(ci) = &snapshot.ci else {
        if findings.is_empty() {
            findings.push(Finding::hold(
                RULE_NOT_COLLECTED,
                "CI results were not collected",
            ));
        }
        return Decision::from_findings(findings);
    };
    // What is absent proves nothing when the source of checks and reviews
    // could not be read.
    let partial = snapshot.gap("ci").is_some() || snapshot.gap("github").is_some();

    let mut passed = Vec::new();
    checks(ci, config, partial, &mut findings, &mut passed);
    tests(&ci.test_suites, config, &mut findings, &mut passed);
    coverage(ci.coverage_percent, config, &mut findings);
    artifacts(ci, config, &mut findings, &mut passed);
    merge(ci, config, &mut findings, &mut passed);
    let reviews = latest_reviews(&ci.approvals);
    changes_requested(&reviews, &mut findings, &mut passed);
    let requirement = approvals(
        snapshot,
        &reviews,
        config,
        partial,
        &mut findings,
        &mut passed,
    );

    if !passed.is_empty() {
        findings.push(Finding::pass(RULE_OK, passed.join(", ")));
    }
    let decision = Decision::from_findings(findings);
    match requirement {
        Some(r) => decision.require(r),
        None => decision,
    }
}

/// `1 thing` / `2 things`.
fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The required checks: failed, missing, pending.
fn checks(
    ci: &Ci,
    config: &Config,
    partial: bool,
    findings: &mut Vec<Finding>,
    passed: &mut Vec<String>,
) {
    // The last report of each check wins.
    let mut latest: BTreeMap<&str, &Check> = BTreeMap::new();
    for check in &ci.checks {
        latest.insert(check.name.as_str(), check);
    }
    let mut required: Vec<&str> = Vec::new();
    for name in config.required_checks.iter().map(String::as_str).chain(
        ci.checks
            .iter()
            .filter(|c| c.required)
            .map(|c| c.name.as_str()),
    ) {
        if !required.contains(&name) {
            required.push(name);
        }
    }

    let mut ok = 0;
    for name in &required {
        let Some(check) = latest.get(name) else {
            if !partial {
                findings.push(
                    Finding::no_go(
                        RULE_CHECK_MISSING,
                        format!("required check `{name}` was not reported for this commit"),
                    )
                    .evidence("not reported", "success"),
                );
            }
            continue;
        };
        let conclusion = check.conclusion;
        match conclusion {
            CheckConclusion::Success | CheckConclusion::Neutral | CheckConclusion::Skipped => {
                ok += 1;
            }
            CheckConclusion::Failure
            | CheckConclusion::Cancelled
            | CheckConclusion::TimedOut
            | CheckConclusion::ActionRequired => findings.push(
                Finding::no_go(
                    RULE_CHECK_FAILED,
                    format!("required check `{name}` did not pass ({conclusion})"),
                )
                .evidence(conclusion, "success"),
            ),
            CheckConclusion::Pending | CheckConclusion::Stale => findings.push(
                Finding::hold(
                    RULE_CHECK_PENDING,
                    format!("required check `{name}` has no result yet ({conclusion})"),
                )
                .evidence(conclusion, "success"),
            ),
        }
    }
    if required.is_empty() {
        passed.push("no required checks".to_owned());
    } else if ok == required.len() {
        passed.push(format!(
            "{} passed",
            count(ok as u64, "required check", "required checks")
        ));
    }
}

/// Test suites: failures, and no tests at all.
fn tests(
    suites: &[TestSuite],
    config: &Config,
    findings: &mut Vec<Finding>,
    passed: &mut Vec<String>,
) {
    let mut failing = false;
    for suite in suites {
        let failed = u64::from(suite.failures) + u64::from(suite.errors);
        if failed > 0 {
            failing = true;
            findings.push(
                Finding::no_go(
                    RULE_TESTS_FAILED,
                    format!(
                        "test suite `{}` has {} ({} failed, {} errored)",
                        suite.name,
                        count(failed, "failing test", "failing tests"),
                        suite.failures,
                        suite.errors
                    ),
                )
                .evidence(format!("{failed} failed of {}", suite.tests), "0 failed"),
            );
        }
    }
    // A skipped test did not run: it is neither passed nor evidence of
    // testing.
    let total: u64 = suites.iter().map(|s| u64::from(s.tests)).sum();
    let skipped: u64 = suites
        .iter()
        .map(|s| u64::from(s.skipped.min(s.tests)))
        .sum();
    let ran = total - skipped;
    if ran == 0 {
        if config.require_tests {
            findings.push(
                Finding::hold(
                    RULE_NO_TESTS,
                    if suites.is_empty() {
                        "no test results were reported".to_owned()
                    } else if skipped > 0 {
                        format!(
                            "the reported test suites ran no tests ({} skipped)",
                            count(skipped, "test", "tests")
                        )
                    } else {
                        "the reported test suites ran no tests".to_owned()
                    },
                )
                .evidence("0 tests run", ">= 1 test run"),
            );
        } else if !failing {
            passed.push(if skipped > 0 {
                format!(
                    "no tests ran, {} skipped (not required)",
                    count(skipped, "test", "tests")
                )
            } else {
                "no tests reported (not required)".to_owned()
            });
        }
    } else if !failing {
        let skipped = if skipped > 0 {
            format!(" ({skipped} skipped)")
        } else {
            String::new()
        };
        passed.push(format!(
            "{} passed{skipped} in {}",
            count(ran, "test", "tests"),
            count(suites.len() as u64, "suite", "suites")
        ));
    }
}

/// `93.10%`, with more digits when two would round onto the bar's side
/// it is not on (94.999 against 95 is not "95.00%", nor is 95.001 against
/// a strict 95).
fn percent(value: f64, bar: CoverageBar) -> String {
    let short = format!("{value:.2}");
    match short.parse::<f64>() {
        Ok(rounded)
            if bar.passes(rounded) != bar.passes(value)
                || (rounded == bar.percent && value != bar.percent) =>
        {
            format!("{value}%")
        }
        _ => format!("{short}%"),
    }
}

/// Coverage against the configured bar.
fn coverage(value: Option<f64>, config: &Config, findings: &mut Vec<Finding>) {
    let Some(bar) = config.min_coverage_percent else {
        return;
    };
    let (expected, required, min) = (bar.expected(), bar.required(), bar.percent);
    findings.push(match value {
        Some(v) if v.is_nan() => Finding::hold(
            RULE_COVERAGE,
            format!("coverage was reported as not a number, and {required} is required"),
        )
        .evidence("NaN", expected),
        None => Finding::hold(
            RULE_COVERAGE,
            format!("coverage was not reported, and {required} is required"),
        )
        .evidence("not reported", expected),
        Some(v) if !bar.passes(v) => Finding::no_go(
            RULE_COVERAGE,
            if bar.strict {
                format!(
                    "coverage {} is not above the bar of {min}% (it must be strictly above)",
                    percent(v, bar)
                )
            } else {
                format!(
                    "coverage {} is below the minimum of {min}%",
                    percent(v, bar)
                )
            },
        )
        .evidence(percent(v, bar), expected),
        Some(v) => Finding::pass(
            RULE_COVERAGE,
            if bar.strict {
                format!("coverage {} is above the bar of {min}%", percent(v, bar))
            } else {
                format!("coverage {} meets the minimum of {min}%", percent(v, bar))
            },
        )
        .evidence(percent(v, bar), expected),
    });
}

/// Artifacts that were not built.
fn artifacts(ci: &Ci, config: &Config, findings: &mut Vec<Finding>, passed: &mut Vec<String>) {
    if !config.require_artifacts_built {
        return;
    }
    let mut all_built = true;
    for artifact in ci.artifacts.iter().filter(|a| !a.built) {
        all_built = false;
        let what = if artifact.kind.is_empty() {
            "artifact".to_owned()
        } else {
            artifact.kind.clone()
        };
        findings.push(
            Finding::no_go(
                RULE_ARTIFACT_NOT_BUILT,
                format!("{what} `{}` was not built", artifact.name),
            )
            .evidence("not built", "built"),
        );
    }
    if ci.artifacts.is_empty() {
        passed.push("no artifacts reported".to_owned());
    } else if all_built {
        passed.push(format!(
            "{} built",
            count(ci.artifacts.len() as u64, "artifact", "artifacts")
        ));
    }
}

/// The merge state: conflicts, protection, behind the base, unknown.
fn merge(ci: &Ci, config: &Config, findings: &mut Vec<Finding>, passed: &mut Vec<String>) {
    let behind = ci.commits_behind_base.unwrap_or(0);
    match ci.merge_state {
        MergeState::Conflicting => findings.push(Finding::no_go(
            RULE_MERGE_CONFLICT,
            "the change has merge conflicts with its base",
        )),
        MergeState::Blocked => findings.push(Finding::no_go(
            RULE_MERGE_BLOCKED,
            "branch protection blocks merging the change",
        )),
        MergeState::Unknown => match config.unknown_merge_state {
            UnknownMergeState::Hold => findings.push(Finding::hold(
                RULE_MERGE_UNKNOWN,
                "whether the change merges cleanly into its base is not known",
            )),
            UnknownMergeState::Ignore => passed.push("merge state unknown (ignored)".to_owned()),
        },
        MergeState::Behind => behind_base(ci.commits_behind_base, config, findings, passed),
        MergeState::Clean if behind > 0 => {
            behind_base(ci.commits_behind_base, config, findings, passed);
        }
        MergeState::Clean => passed.push("merges cleanly".to_owned()),
    }
}

/// The branch is behind its base.
fn behind_base(
    commits: Option<u32>,
    config: &Config,
    findings: &mut Vec<Finding>,
    passed: &mut Vec<String>,
) {
    let observed = match commits {
        Some(n) => format!("{} behind", count(n, "commit", "commits")),
        None => "behind".to_owned(),
    };
    let message = match commits {
        Some(n) => format!(
            "the branch is {} behind its base and should be updated",
            count(n, "commit", "commits")
        ),
        None => "the branch is behind its base and should be updated".to_owned(),
    };
    match config.behind_base {
        BehindBase::Hold => findings
            .push(Finding::hold(RULE_BEHIND_BASE, message).evidence(observed, "0 commits behind")),
        BehindBase::NoGo => findings
            .push(Finding::no_go(RULE_BEHIND_BASE, message).evidence(observed, "0 commits behind")),
        BehindBase::Ignore => passed.push(format!("merges cleanly ({observed}, ignored)")),
    }
}

/// Each reviewer's latest review that is not a plain comment, in the order
/// reviewers first appear.
fn latest_reviews(approvals: &[Approval]) -> Vec<&Approval> {
    let mut order: Vec<&str> = Vec::new();
    let mut by_reviewer: BTreeMap<&str, Vec<&Approval>> = BTreeMap::new();
    for review in approvals
        .iter()
        .filter(|a| a.state != ReviewState::Commented)
    {
        let reviews = by_reviewer.entry(review.reviewer.as_str()).or_default();
        if reviews.is_empty() {
            order.push(review.reviewer.as_str());
        }
        reviews.push(review);
    }
    order
        .iter()
        .filter_map(|reviewer| {
            let reviews = by_reviewer.get(reviewer)?;
            if reviews.iter().all(|r| r.at.is_some()) {
                // The latest by time; on a tie, the later in the list.
                reviews
                    .iter()
                    .enumerate()
                    .max_by_key(|(i, r)| (r.at, *i))
                    .map(|(_, r)| *r)
            } else {
                reviews.last().copied()
            }
        })
        .collect()
}

/// People whose latest review requests changes.
fn changes_requested(reviews: &[&Approval], findings: &mut Vec<Finding>, passed: &mut Vec<String>) {
    let mut any = false;
    for review in reviews
        .iter()
        .filter(|r| r.human && r.state == ReviewState::ChangesRequested)
    {
        any = true;
        findings.push(Finding::no_go(
            RULE_CHANGES_REQUESTED,
            format!("{} requested changes", review.reviewer),
        ));
    }
    if !any && !reviews.is_empty() {
        passed.push("no changes requested".to_owned());
    }
}

/// Approvals against the environment's minimum; returns the manual approval
/// still needed, if any.
fn approvals(
    snapshot: &Snapshot,
    reviews: &[&Approval],
    config: &Config,
    partial: bool,
    findings: &mut Vec<Finding>,
    passed: &mut Vec<String>,
) -> Option<Requirement> {
    let target = snapshot.deployment.environment.as_str();
    let needed = config
        .min_approvals
        .get(target)
        .or_else(|| config.min_approvals.get(ANY_ENVIRONMENT))
        .copied()
        .unwrap_or(0);
    let approvers: BTreeSet<&str> = reviews
        .iter()
        .filter(|r| r.state == ReviewState::Approved && (r.human || config.count_bot_approvals))
        .map(|r| r.reviewer.as_str())
        .collect();
    let have = approvers.len();
    let noun = if config.count_bot_approvals {
        count(have as u64, "approval", "approvals")
    } else {
        count(have as u64, "human approval", "human approvals")
    };
    let expected = format!(">= {needed} for {target}");

    if needed == 0 {
        passed.push(format!("no approvals required for {target}"));
        return None;
    }
    if have as u64 >= u64::from(needed) {
        findings.push(
            Finding::pass(
                RULE_APPROVALS,
                format!("{noun}, {needed} required for {target}"),
            )
            .evidence(noun.clone(), expected),
        );
        return None;
    }
    let deployment = &snapshot.deployment;
    let urgent = matches!(deployment.severity, Some(Severity::P0 | Severity::P1));
    if config.allow_hotfix_without_approval && deployment.kind == DeployKind::Hotfix && urgent {
        let severity = deployment
            .severity
            .map(Severity::as_str)
            .unwrap_or_default();
        findings.push(
            Finding::pass(
                RULE_APPROVALS,
                format!(
                    "approvals waived for a {severity} hotfix ({noun}, {needed} normally required \
                     for {target})"
                ),
            )
            .evidence(noun, expected),
        );
        return None;
    }
    if partial {
        // Reviews may be missing: the not-collected hold stands for them.
        return None;
    }
    findings.push(
        Finding::no_go(
            RULE_APPROVALS,
            format!("{noun}, but {needed} required to deploy to {target}"),
        )
        .evidence(noun, expected),
    );
    let person = if config.count_bot_approvals {
        count(needed, "approval", "approvals")
    } else {
        count(needed, "human approval", "human approvals")
    };
    Some(Requirement::ManualApproval(format!(
        "{person} for {target}"
    )))
}

shipgate_sdk::export_policy!(Readiness);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use shipgate_sdk::testing::evaluate;

    /// A snapshot where everything passes; `edit` changes it first.
    fn snapshot(edit: impl FnOnce(&mut Value)) -> Snapshot {
        let mut v = json!({
            "deployment": { "service": "checkout", "environment": "production", "version": "2.0.0",
                            "commit": "abc123", "requested_at": "2026-11-20T10:00:00Z" },
            "ci": {
                "checks": [
                    { "name": "build", "conclusion": "success", "required": true },
                    { "name": "lint", "conclusion": "failure" }
                ],
                "test_suites": [{ "name": "unit", "tests": 412, "skipped": 3 }],
                "coverage_percent": 96.2,
                "artifacts": [{ "name": "checkout", "kind": "image", "built": true }],
                "merge_state": "clean",
                "commits_behind_base": 0,
                "approvals": [{ "reviewer": "alice", "state": "approved" }]
            }
        });
        edit(&mut v);
        serde_json::from_value(v).unwrap()
    }

    fn ci(edit: impl FnOnce(&mut Value)) -> Snapshot {
        snapshot(|v| edit(&mut v["ci"]))
    }

    fn run(snapshot: &Snapshot, config: &str) -> Decision {
        evaluate::<Readiness>(Stage::Gate, snapshot, config).unwrap()
    }

    fn rules(d: &Decision) -> Vec<(&str, Verdict)> {
        d.findings
            .iter()
            .map(|f| (f.rule.as_str(), f.verdict))
            .collect()
    }

    /// The findings of `rule`.
    fn of<'a>(d: &'a Decision, rule: &str) -> Vec<&'a Finding> {
        d.findings.iter().filter(|f| f.rule == rule).collect()
    }

    /// The one finding of `rule`.
    fn one<'a>(d: &'a Decision, rule: &str) -> &'a Finding {
        let found = of(d, rule);
        assert_eq!(found.len(), 1, "{rule} in {:#?}", d.findings);
        found[0]
    }

    fn evidence(f: &Finding) -> (&str, &str) {
        let e = f.evidence.as_ref().unwrap();
        (e.observed.as_str(), e.expected.as_str())
    }

    #[test]
    fn everything_ready_is_go_with_a_summary() {
        let d = run(&snapshot(|_| {}), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            rules(&d),
            [(RULE_APPROVALS, Verdict::Go), (RULE_OK, Verdict::Go)]
        );
        assert_eq!(
            d.findings[1].message,
            "1 required check passed, 409 tests passed (3 skipped) in 1 suite, 1 artifact \
             built, merges cleanly, no changes requested"
        );
        assert!(d.requirements.is_empty());
    }

    #[test]
    fn uncollected_ci_holds() {
        let d = run(&snapshot(|v| v["ci"] = Value::Null), "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(rules(&d), [(RULE_NOT_COLLECTED, Verdict::Hold)]);
        assert_eq!(d.findings[0].message, "CI results were not collected");

        let d = run(
            &snapshot(|v| {
                v["ci"] = Value::Null;
                v["gaps"] = json!([{ "source": "github", "reason": "rate limited" }]);
            }),
            "{}",
        );
        assert_eq!(rules(&d), [(RULE_NOT_COLLECTED, Verdict::Hold)]);
        assert_eq!(
            d.findings[0].message,
            "github could not be read, so CI results may be incomplete: rate limited"
        );
    }

    #[test]
    fn a_gap_holds_even_with_ci_data() {
        for source in SOURCES {
            let d = run(
                &snapshot(|v| v["gaps"] = json!([{ "source": source, "reason": "timeout" }])),
                "{}",
            );
            assert_eq!(d.verdict, Verdict::Hold, "{source}");
            assert!(one(&d, RULE_NOT_COLLECTED).message.starts_with(source));
        }
        let d = run(
            &snapshot(|v| v["gaps"] = json!([{ "source": "prometheus", "reason": "down" }])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn a_github_gap_defers_absence_but_keeps_failures() {
        let gap = |v: &mut Value| v["gaps"] = json!([{ "source": "github", "reason": "timeout" }]);
        // Missing check and missing approvals: hold, not no-go.
        let d = run(
            &snapshot(|v| {
                gap(v);
                v["ci"]["approvals"] = json!([]);
            }),
            r#"{"required_checks": ["security-scan"]}"#,
        );
        assert_eq!(d.verdict, Verdict::Hold);
        assert!(of(&d, RULE_CHECK_MISSING).is_empty());
        assert!(of(&d, RULE_APPROVALS).is_empty());
        assert!(d.requirements.is_empty());
        // A failure in the data is still a failure.
        let d = run(
            &snapshot(|v| {
                gap(v);
                v["ci"]["checks"][0]["conclusion"] = json!("failure");
            }),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        one(&d, RULE_CHECK_FAILED);
        // A junit gap does not hide missing checks.
        let d = run(
            &snapshot(|v| v["gaps"] = json!([{ "source": "junit", "reason": "no report" }])),
            r#"{"required_checks": ["security-scan"]}"#,
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        one(&d, RULE_CHECK_MISSING);
    }

    #[test]
    fn a_failed_required_check_is_no_go() {
        for conclusion in ["failure", "cancelled", "timed-out", "action-required"] {
            let d = run(
                &ci(|c| c["checks"][0]["conclusion"] = json!(conclusion)),
                "{}",
            );
            assert_eq!(d.verdict, Verdict::NoGo, "{conclusion}");
            let f = one(&d, RULE_CHECK_FAILED);
            assert_eq!(
                f.message,
                format!("required check `build` did not pass ({conclusion})")
            );
            assert_eq!(evidence(f), (conclusion, "success"));
            assert!(!one(&d, RULE_OK).message.contains("check"));
        }
    }

    #[test]
    fn passing_conclusions_and_optional_checks_are_go() {
        for conclusion in ["success", "neutral", "skipped"] {
            let d = run(
                &ci(|c| c["checks"][0]["conclusion"] = json!(conclusion)),
                "{}",
            );
            assert_eq!(d.verdict, Verdict::Go, "{conclusion}");
        }
        // `lint` fails but is not required, until the config requires it.
        let d = run(&snapshot(|_| {}), r#"{"required_checks": ["lint"]}"#);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert!(one(&d, RULE_CHECK_FAILED).message.contains("`lint`"));
    }

    #[test]
    fn the_last_report_of_a_check_wins() {
        let d = run(
            &ci(|c| {
                c["checks"] = json!([
                    { "name": "build", "conclusion": "failure", "required": true },
                    { "name": "build", "conclusion": "success", "required": true }
                ]);
            }),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
        let d = run(
            &ci(|c| {
                c["checks"] = json!([
                    { "name": "build", "conclusion": "success", "required": true },
                    { "name": "build", "conclusion": "pending", "required": true }
                ]);
            }),
            "{}",
        );
        assert_eq!(rules(&d)[0], (RULE_CHECK_PENDING, Verdict::Hold));
    }

    #[test]
    fn a_missing_required_check_is_no_go() {
        let d = run(
            &snapshot(|_| {}),
            r#"{"required_checks": ["security-scan"]}"#,
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        let f = one(&d, RULE_CHECK_MISSING);
        assert_eq!(
            f.message,
            "required check `security-scan` was not reported for this commit"
        );
        assert_eq!(evidence(f), ("not reported", "success"));
        let d = run(&snapshot(|_| {}), r#"{"required_checks": ["build"]}"#);
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn a_pending_or_stale_required_check_holds() {
        for conclusion in ["pending", "stale"] {
            let d = run(
                &ci(|c| c["checks"][0]["conclusion"] = json!(conclusion)),
                "{}",
            );
            assert_eq!(d.verdict, Verdict::Hold, "{conclusion}");
            assert_eq!(
                one(&d, RULE_CHECK_PENDING).message,
                format!("required check `build` has no result yet ({conclusion})")
            );
        }
    }

    #[test]
    fn no_required_checks_is_noted() {
        let d = run(&ci(|c| c["checks"] = json!([])), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert!(one(&d, RULE_OK).message.starts_with("no required checks, "));
    }

    #[test]
    fn failing_tests_are_no_go() {
        let d = run(
            &ci(|c| {
                c["test_suites"] = json!([
                    { "name": "unit", "tests": 412, "failures": 2, "errors": 1 },
                    { "name": "e2e", "tests": 20 }
                ]);
            }),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        let f = one(&d, RULE_TESTS_FAILED);
        assert_eq!(
            f.message,
            "test suite `unit` has 3 failing tests (2 failed, 1 errored)"
        );
        assert_eq!(evidence(f), ("3 failed of 412", "0 failed"));
        // One error alone is enough.
        let d = run(
            &ci(|c| c["test_suites"] = json!([{ "name": "unit", "tests": 412, "errors": 1 }])),
            "{}",
        );
        assert_eq!(evidence(one(&d, RULE_TESTS_FAILED)).0, "1 failed of 412");
        // Skipped tests are not failures.
        let d = run(
            &ci(|c| c["test_suites"] = json!([{ "name": "unit", "tests": 4, "skipped": 4 }])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn skipped_tests_are_not_counted_as_passed() {
        // JUnit's `tests` counts skipped tests too: 5 tests, 1 skipped is 4
        // passed, not 5.
        let d = run(
            &ci(|c| c["test_suites"] = json!([{ "name": "unit", "tests": 5, "skipped": 1 }])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
        let ok = &one(&d, RULE_OK).message;
        assert!(ok.contains("4 tests passed (1 skipped) in 1 suite"), "{ok}");
        assert!(!ok.contains("5 tests passed"), "{ok}");
        // Without skips the summary is as before.
        let d = run(
            &ci(|c| c["test_suites"] = json!([{ "name": "unit", "tests": 5 }])),
            "{}",
        );
        assert!(
            one(&d, RULE_OK)
                .message
                .contains("5 tests passed in 1 suite")
        );
        // Every test skipped: no test ran, which `require_tests` holds on.
        let all_skipped =
            ci(|c| c["test_suites"] = json!([{ "name": "unit", "tests": 4, "skipped": 4 }]));
        let d = run(&all_skipped, "{}");
        assert!(
            one(&d, RULE_OK)
                .message
                .contains("no tests ran, 4 tests skipped (not required)")
        );
        let d = run(&all_skipped, r#"{"require_tests": true}"#);
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(
            one(&d, RULE_NO_TESTS).message,
            "the reported test suites ran no tests (4 tests skipped)"
        );
    }

    #[test]
    fn no_tests_holds_only_when_required() {
        let none = ci(|c| c["test_suites"] = json!([]));
        let d = run(&none, "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert!(
            one(&d, RULE_OK)
                .message
                .contains("no tests reported (not required)")
        );
        let d = run(&none, r#"{"require_tests": true}"#);
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(
            one(&d, RULE_NO_TESTS).message,
            "no test results were reported"
        );
        let empty = ci(|c| c["test_suites"] = json!([{ "name": "unit", "tests": 0 }]));
        let d = run(&empty, r#"{"require_tests": true}"#);
        assert_eq!(
            one(&d, RULE_NO_TESTS).message,
            "the reported test suites ran no tests"
        );
        let d = run(&snapshot(|_| {}), r#"{"require_tests": true}"#);
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn coverage_below_the_minimum_is_no_go_and_at_it_passes() {
        let cov = |p: f64| ci(|c| c["coverage_percent"] = json!(p));
        let config = r#"{"min_coverage_percent": 95}"#;

        let d = run(&cov(93.1), config);
        assert_eq!(d.verdict, Verdict::NoGo);
        let f = one(&d, RULE_COVERAGE);
        assert_eq!(f.message, "coverage 93.10% is below the minimum of 95%");
        assert_eq!(evidence(f), ("93.10%", ">= 95%"));

        let d = run(&cov(95.0), config);
        assert_eq!(d.verdict, Verdict::Go);
        let f = one(&d, RULE_COVERAGE);
        assert_eq!(f.verdict, Verdict::Go);
        assert_eq!(evidence(f), ("95.00%", ">= 95%"));

        let d = run(&cov(94.999), config);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(evidence(one(&d, RULE_COVERAGE)).0, "94.999%");

        assert_eq!(run(&cov(100.0), config).verdict, Verdict::Go);
        assert_eq!(
            run(&cov(95.5), r#"{"min_coverage_percent": 95.5}"#).verdict,
            Verdict::Go
        );
        // Not configured: not checked.
        let d = run(&cov(10.0), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert!(of(&d, RULE_COVERAGE).is_empty());
    }

    #[test]
    fn a_strict_coverage_bar_refuses_exactly_the_bar() {
        // 002:79 "All tests passing (>95% coverage)": strictly above.
        let cov = |p: f64| ci(|c| c["coverage_percent"] = json!(p));
        let strict = r#"{"min_coverage_percent": {"above": 95}}"#;

        let d = run(&cov(95.0), strict);
        assert_eq!(d.verdict, Verdict::NoGo);
        let f = one(&d, RULE_COVERAGE);
        assert_eq!(
            f.message,
            "coverage 95.00% is not above the bar of 95% (it must be strictly above)"
        );
        assert_eq!(evidence(f), ("95.00%", "> 95%"));

        let d = run(&cov(95.001), strict);
        assert_eq!(d.verdict, Verdict::Go);
        let f = one(&d, RULE_COVERAGE);
        assert_eq!(f.message, "coverage 95.001% is above the bar of 95%");
        assert_eq!(evidence(f), ("95.001%", "> 95%"));

        // The inclusive forms: a number, or `at_least`.
        for inclusive in [
            r#"{"min_coverage_percent": 95}"#,
            r#"{"min_coverage_percent": {"at_least": 95}}"#,
        ] {
            assert_eq!(run(&cov(95.0), inclusive).verdict, Verdict::Go);
            assert_eq!(run(&cov(94.99), inclusive).verdict, Verdict::NoGo);
        }

        let none = ci(|c| c["coverage_percent"] = Value::Null);
        let f = one(&run(&none, strict), RULE_COVERAGE).clone();
        assert_eq!(
            f.message,
            "coverage was not reported, and more than 95% is required"
        );
    }

    #[test]
    fn the_coverage_bar_forms_are_checked() {
        let parse = shipgate_sdk::parse_config::<Readiness>;
        for bad in [
            r#"{"min_coverage_percent": {"above": 95, "at_least": 95}}"#,
            r#"{"min_coverage_percent": {}}"#,
            r#"{"min_coverage_percent": {"over": 95}}"#,
            r#"{"min_coverage_percent": "95"}"#,
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.key, "min_coverage_percent", "{bad}: {e:?}");
        }
        let e = parse(r#"{"min_coverage_percent": {"above": 100.5}}"#).unwrap_err();
        assert_eq!(e.key, "min_coverage_percent");
        assert_eq!(
            parse(r#"{"min_coverage_percent": {"above": 95}}"#)
                .unwrap()
                .min_coverage_percent,
            Some(CoverageBar {
                percent: 95.0,
                strict: true
            })
        );
    }

    #[test]
    fn the_star_entry_sets_approvals_for_every_environment_not_listed() {
        // 003:40 "Code review approved" applies to every environment.
        let staging = |approvals: Value| {
            snapshot(|s| {
                s["deployment"]["environment"] = json!("staging");
                s["ci"]["approvals"] = approvals;
            })
        };
        let every = r#"{"min_approvals": {"*": 1}}"#;
        let d = run(&staging(json!([])), every);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            evidence(one(&d, RULE_APPROVALS)),
            ("0 human approvals", ">= 1 for staging")
        );
        let approved = json!([{ "reviewer": "alice", "state": "approved" }]);
        assert_eq!(run(&staging(approved.clone()), every).verdict, Verdict::Go);
        // A listed environment takes its own number over the star's.
        let config = r#"{"min_approvals": {"*": 1, "production": 2}}"#;
        let d = run(&ci(|c| c["approvals"] = approved.clone()), config);
        assert_eq!(
            evidence(one(&d, RULE_APPROVALS)),
            ("1 human approval", ">= 2 for production")
        );
        let d = run(
            &staging(json!([])),
            r#"{"min_approvals": {"*": 1, "staging": 0}}"#,
        );
        assert_eq!(d.verdict, Verdict::Go);
        // Without a star, an environment not listed needs none (as before).
        assert_eq!(
            run(
                &staging(json!([])),
                r#"{"min_approvals": {"production": 1}}"#
            )
            .verdict,
            Verdict::Go
        );
    }

    #[test]
    fn missing_coverage_holds_when_a_minimum_is_set() {
        let none = ci(|c| c["coverage_percent"] = Value::Null);
        let d = run(&none, r#"{"min_coverage_percent": 95}"#);
        assert_eq!(d.verdict, Verdict::Hold);
        let f = one(&d, RULE_COVERAGE);
        assert_eq!(
            f.message,
            "coverage was not reported, and at least 95% is required"
        );
        assert_eq!(evidence(f), ("not reported", ">= 95%"));
        assert_eq!(run(&none, "{}").verdict, Verdict::Go);
    }

    #[test]
    fn an_unbuilt_artifact_is_no_go_unless_disabled() {
        let s = ci(|c| {
            c["artifacts"] = json!([
                { "name": "checkout", "kind": "image", "built": false },
                { "name": "docs", "built": true }
            ]);
        });
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        let f = one(&d, RULE_ARTIFACT_NOT_BUILT);
        assert_eq!(f.message, "image `checkout` was not built");
        assert_eq!(evidence(f), ("not built", "built"));

        let d = run(&s, r#"{"require_artifacts_built": false}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert!(!one(&d, RULE_OK).message.contains("artifact"));

        let d = run(&ci(|c| c["artifacts"] = json!([])), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert!(one(&d, RULE_OK).message.contains("no artifacts reported"));
    }

    #[test]
    fn conflicting_and_blocked_merges_are_no_go() {
        let d = run(&ci(|c| c["merge_state"] = json!("conflicting")), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            one(&d, RULE_MERGE_CONFLICT).message,
            "the change has merge conflicts with its base"
        );
        let d = run(&ci(|c| c["merge_state"] = json!("blocked")), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        one(&d, RULE_MERGE_BLOCKED);
    }

    #[test]
    fn an_unknown_merge_state_holds_unless_ignored() {
        // `unknown` is also what an absent merge state means.
        let s = ci(|c| {
            c.as_object_mut().unwrap().remove("merge_state");
        });
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        one(&d, RULE_MERGE_UNKNOWN);
        let d = run(&s, r#"{"unknown_merge_state": "hold"}"#);
        assert_eq!(d.verdict, Verdict::Hold);
        let d = run(&s, r#"{"unknown_merge_state": "ignore"}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert!(of(&d, RULE_MERGE_UNKNOWN).is_empty());
        assert!(
            one(&d, RULE_OK)
                .message
                .contains("merge state unknown (ignored)")
        );
    }

    #[test]
    fn behind_base_follows_the_config() {
        let s = ci(|c| {
            c["merge_state"] = json!("behind");
            c["commits_behind_base"] = json!(12);
        });
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        let f = one(&d, RULE_BEHIND_BASE);
        assert_eq!(
            f.message,
            "the branch is 12 commits behind its base and should be updated"
        );
        assert_eq!(evidence(f), ("12 commits behind", "0 commits behind"));

        let d = run(&s, r#"{"behind_base": "no-go"}"#);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(one(&d, RULE_BEHIND_BASE).verdict, Verdict::NoGo);

        let d = run(&s, r#"{"behind_base": "ignore"}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert!(of(&d, RULE_BEHIND_BASE).is_empty());

        // A count alone says behind too; zero does not.
        let d = run(&ci(|c| c["commits_behind_base"] = json!(1)), "{}");
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(evidence(one(&d, RULE_BEHIND_BASE)).0, "1 commit behind");
        // Behind without a count.
        let d = run(
            &ci(|c| {
                c["merge_state"] = json!("behind");
                c["commits_behind_base"] = Value::Null;
            }),
            "{}",
        );
        assert_eq!(evidence(one(&d, RULE_BEHIND_BASE)).0, "behind");
    }

    #[test]
    fn a_human_requesting_changes_is_no_go() {
        let reviews = |r: Value| ci(|c| c["approvals"] = r);
        let d = run(
            &reviews(json!([
                { "reviewer": "alice", "state": "approved" },
                { "reviewer": "bob", "state": "changes-requested" }
            ])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            one(&d, RULE_CHANGES_REQUESTED).message,
            "bob requested changes"
        );

        // A bot's request, a dismissed request, a later approval: go.
        for later in [
            json!([{ "reviewer": "alice", "state": "approved" },
                   { "reviewer": "linter[bot]", "state": "changes-requested", "human": false }]),
            json!([{ "reviewer": "bob", "state": "changes-requested" },
                   { "reviewer": "bob", "state": "dismissed" },
                   { "reviewer": "alice", "state": "approved" }]),
            json!([{ "reviewer": "alice", "state": "changes-requested" },
                   { "reviewer": "alice", "state": "approved" }]),
        ] {
            let d = run(&reviews(later.clone()), "{}");
            assert_eq!(d.verdict, Verdict::Go, "{later}");
            assert!(one(&d, RULE_OK).message.ends_with("no changes requested"));
        }

        // A comment after a request does not withdraw it.
        let d = run(
            &reviews(json!([
                { "reviewer": "alice", "state": "approved" },
                { "reviewer": "bob", "state": "changes-requested" },
                { "reviewer": "bob", "state": "commented" }
            ])),
            "{}",
        );
        one(&d, RULE_CHANGES_REQUESTED);
    }

    #[test]
    fn the_latest_review_by_time_wins_when_all_have_one() {
        let reviews = |r: Value| ci(|c| c["approvals"] = r);
        // Listed first, but later.
        let d = run(
            &reviews(json!([
                { "reviewer": "alice", "state": "changes-requested", "at": "2026-11-20T09:00:00Z" },
                { "reviewer": "alice", "state": "approved", "at": "2026-11-20T08:00:00Z" }
            ])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        one(&d, RULE_CHANGES_REQUESTED);
        assert_eq!(one(&d, RULE_APPROVALS).verdict, Verdict::NoGo);
        // One review without a time: the last in the list wins.
        let d = run(
            &reviews(json!([
                { "reviewer": "alice", "state": "changes-requested", "at": "2026-11-20T09:00:00Z" },
                { "reviewer": "alice", "state": "approved" }
            ])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn production_needs_a_human_approval() {
        let reviews = |r: Value| ci(|c| c["approvals"] = r);
        let d = run(&reviews(json!([])), "{}");
        assert_eq!(d.verdict, Verdict::NoGo);
        let f = one(&d, RULE_APPROVALS);
        assert_eq!(f.verdict, Verdict::NoGo);
        assert_eq!(
            f.message,
            "0 human approvals, but 1 required to deploy to production"
        );
        assert_eq!(evidence(f), ("0 human approvals", ">= 1 for production"));
        assert_eq!(
            d.requirements,
            [Requirement::ManualApproval(
                "1 human approval for production".into()
            )]
        );

        // Exactly the minimum passes.
        let d = run(&snapshot(|_| {}), "{}");
        let f = one(&d, RULE_APPROVALS);
        assert_eq!(f.verdict, Verdict::Go);
        assert_eq!(evidence(f), ("1 human approval", ">= 1 for production"));

        // Bots, comments, dismissed approvals and repeats do not count.
        let d = run(
            &reviews(json!([
                { "reviewer": "deps[bot]", "state": "approved", "human": false },
                { "reviewer": "carol", "state": "commented" },
                { "reviewer": "dave", "state": "approved" },
                { "reviewer": "dave", "state": "dismissed" }
            ])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(evidence(one(&d, RULE_APPROVALS)).0, "0 human approvals");
    }

    #[test]
    fn approvals_depend_on_the_environment() {
        let staging = |approvals: Value| {
            snapshot(|v| {
                v["deployment"]["environment"] = json!("staging");
                v["ci"]["approvals"] = approvals;
            })
        };
        let d = run(&staging(json!([])), "{}");
        assert_eq!(d.verdict, Verdict::Go);
        assert!(of(&d, RULE_APPROVALS).is_empty());
        assert!(
            one(&d, RULE_OK)
                .message
                .contains("no approvals required for staging")
        );

        let config = r#"{"min_approvals": {"production": 2, "staging": 1}}"#;
        let d = run(&staging(json!([])), config);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            evidence(one(&d, RULE_APPROVALS)),
            ("0 human approvals", ">= 1 for staging")
        );

        let two = json!([{ "reviewer": "alice", "state": "approved" },
                         { "reviewer": "bob", "state": "approved" },
                         { "reviewer": "alice", "state": "approved" }]);
        let d = run(&ci(|c| c["approvals"] = two.clone()), config);
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            evidence(one(&d, RULE_APPROVALS)),
            ("2 human approvals", ">= 2 for production")
        );
        let d = run(&snapshot(|_| {}), config);
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            evidence(one(&d, RULE_APPROVALS)),
            ("1 human approval", ">= 2 for production")
        );
        // Replacing the table drops production's default.
        assert_eq!(
            run(
                &ci(|c| c["approvals"] = json!([])),
                r#"{"min_approvals": {}}"#
            )
            .verdict,
            Verdict::Go
        );
    }

    #[test]
    fn bot_approvals_count_only_when_asked() {
        let s = ci(|c| {
            c["approvals"] =
                json!([{ "reviewer": "release[bot]", "state": "approved", "human": false }]);
        });
        assert_eq!(run(&s, "{}").verdict, Verdict::NoGo);
        let d = run(&s, r#"{"count_bot_approvals": true}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert_eq!(
            evidence(one(&d, RULE_APPROVALS)),
            ("1 approval", ">= 1 for production")
        );
    }

    #[test]
    fn an_urgent_hotfix_may_skip_approvals() {
        let hotfix = |severity: &str| {
            snapshot(|v| {
                v["deployment"]["kind"] = json!("hotfix");
                v["deployment"]["severity"] = json!(severity);
                v["ci"]["approvals"] = json!([]);
            })
        };
        let allow = r#"{"allow_hotfix_without_approval": true}"#;
        for severity in ["P0", "P1"] {
            let d = run(&hotfix(severity), allow);
            assert_eq!(d.verdict, Verdict::Go, "{severity}");
            let f = one(&d, RULE_APPROVALS);
            assert_eq!(
                f.message,
                format!(
                    "approvals waived for a {severity} hotfix (0 human approvals, 1 normally \
                     required for production)"
                )
            );
            assert!(d.requirements.is_empty());
            // Not without the option.
            assert_eq!(run(&hotfix(severity), "{}").verdict, Verdict::NoGo);
        }
        for severity in ["P2", "P3"] {
            assert_eq!(run(&hotfix(severity), allow).verdict, Verdict::NoGo);
        }
        // A regular deploy with a severity is not a hotfix.
        let s = snapshot(|v| {
            v["deployment"]["severity"] = json!("P0");
            v["ci"]["approvals"] = json!([]);
        });
        assert_eq!(run(&s, allow).verdict, Verdict::NoGo);
        // Changes requested still count for a hotfix.
        let s = snapshot(|v| {
            v["deployment"]["kind"] = json!("hotfix");
            v["deployment"]["severity"] = json!("P0");
            v["ci"]["approvals"] = json!([{ "reviewer": "bob", "state": "changes-requested" }]);
        });
        assert_eq!(run(&s, allow).verdict, Verdict::NoGo);
    }

    #[test]
    fn several_problems_are_all_reported() {
        let d = run(
            &ci(|c| {
                c["checks"][0]["conclusion"] = json!("failure");
                c["merge_state"] = json!("conflicting");
                c["approvals"] = json!([]);
                c["coverage_percent"] = json!(50);
            }),
            r#"{"min_coverage_percent": 95}"#,
        );
        assert_eq!(d.verdict, Verdict::NoGo);
        assert_eq!(
            rules(&d),
            [
                (RULE_CHECK_FAILED, Verdict::NoGo),
                (RULE_COVERAGE, Verdict::NoGo),
                (RULE_MERGE_CONFLICT, Verdict::NoGo),
                (RULE_APPROVALS, Verdict::NoGo),
                (RULE_OK, Verdict::Go),
            ]
        );
        assert_eq!(
            d.findings[4].message,
            "409 tests passed (3 skipped) in 1 suite, 1 artifact built"
        );
    }

    #[test]
    fn config_defaults_and_errors_name_the_key() {
        let parse = shipgate_sdk::parse_config::<Readiness>;
        assert_eq!(parse("{}").unwrap(), Config::default());
        let d = Config::default();
        assert!(d.require_artifacts_built && !d.require_tests && !d.count_bot_approvals);
        assert_eq!(d.min_approvals.get("production"), Some(&1));

        let e = parse(r#"{"min_coverage_percent": 101}"#).unwrap_err();
        assert_eq!(e.key, "min_coverage_percent");
        let e = parse(r#"{"min_coverage_percent": -1}"#).unwrap_err();
        assert_eq!(e.key, "min_coverage_percent");
        assert!(parse(r#"{"min_coverage_percent": 0}"#).is_ok());
        assert!(parse(r#"{"min_coverage_percent": 100}"#).is_ok());
        let e = parse(r#"{"behind_base": "nogo"}"#).unwrap_err();
        assert_eq!(e.key, "behind_base");
        assert!(parse(r#"{"behind_base": "no-go"}"#).is_ok());
        let e = parse(r#"{"unknown_merge_state": "no-go"}"#).unwrap_err();
        assert_eq!(e.key, "unknown_merge_state");
        let e = parse(r#"{"min_approvals": {"production": -1}}"#).unwrap_err();
        assert_eq!(e.key, "min_approvals.production");
        let e = parse(r#"{"min_approvals": {"": 1}}"#).unwrap_err();
        assert_eq!(e.key, "min_approvals");
        let e = parse(r#"{"required_checks": ["build", ""]}"#).unwrap_err();
        assert_eq!(e.key, "required_checks[1]");
        let e = parse(r#"{"min_aprovals": {}}"#).unwrap_err();
        assert!(e.message.contains("unknown field `min_aprovals`"), "{e}");
    }

    #[test]
    fn info_declares_the_gate_and_what_it_reads() {
        let info = Readiness::info();
        assert_eq!(info.name, "readiness");
        assert_eq!(info.stages, [Stage::Gate]);
        assert_eq!(info.reads, [Section::Ci, Section::Deployment]);
    }

    #[test]
    fn info_declares_its_rules() {
        shipgate_sdk::testing::check_rules::<Readiness>().unwrap();
    }
}
