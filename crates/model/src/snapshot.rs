//! The deployment snapshot: every fact a policy may look at.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kinds::*;
use crate::{Health, IntervalResult, Section, Stage, Timestamp};

/// Free-form key/value labels.
pub type Labels = BTreeMap<String, String>;

/// Everything a policy may look at, assembled by the host before it asks.
///
/// A section that the host did not collect is `None` (or empty); a source it
/// tried and could not read is named in [`Snapshot::gaps`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// What is being deployed, where and when.
    pub deployment: Deployment,
    /// CI results; `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<Ci>,
    /// What the change touches; `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// Environment variable names; `None` when not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// The progressive rollout in progress, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// What the health probes found after the deploy; `None` when not
    /// collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Baseline and canary measurements, one entry per metric.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Alerts firing now.
    #[serde(default)]
    pub alerts: Vec<Alert>,
    /// Error signatures from the logs.
    #[serde(default)]
    pub error_signatures: Vec<ErrorSignature>,
    /// Recent deployments of the same service, newest first.
    #[serde(default)]
    pub history: Vec<PastDeployment>,
    /// Free-form labels.
    #[serde(default)]
    pub labels: Labels,
    /// Sources the host could not read, with why.
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

impl Snapshot {
    /// The question to ask when none is given: `canary` while a rollout is
    /// in progress, else `verify` when health probes ran (after a deploy),
    /// else `gate` (what `shipgate eval` and `shipgate test` ask).
    pub fn default_stage(&self) -> Stage {
        if self.rollout.is_some() {
            Stage::Canary
        } else if self.health.is_some() {
            Stage::Verify
        } else {
            Stage::Gate
        }
    }

    /// The parts of this snapshot a policy that reads `sections` sees: those
    /// sections, plus the deployment (always there) and the gaps (what the
    /// host could not collect). What a policy did not declare is empty, as
    /// if never collected: a policy that reads it anyway finds no data and
    /// says so, it never decides on data it did not ask for.
    pub fn only(&self, sections: &[Section]) -> Snapshot {
        fn kept<T: Clone + Default>(read: bool, section: &T) -> T {
            if read { section.clone() } else { T::default() }
        }
        let has = |s: Section| sections.contains(&s);
        Snapshot {
            deployment: self.deployment.clone(),
            ci: kept(has(Section::Ci), &self.ci),
            change: kept(has(Section::Change), &self.change),
            environment: kept(has(Section::Environment), &self.environment),
            rollout: kept(has(Section::Rollout), &self.rollout),
            health: kept(has(Section::Health), &self.health),
            metrics: kept(has(Section::Metrics), &self.metrics),
            alerts: kept(has(Section::Alerts), &self.alerts),
            error_signatures: kept(has(Section::ErrorSignatures), &self.error_signatures),
            history: kept(has(Section::History), &self.history),
            labels: kept(has(Section::Labels), &self.labels),
            gaps: self.gaps.clone(),
        }
    }

    /// The snapshot as the policy named `policy` is given it, when that
    /// differs from this one: each interval of the rollout's history
    /// [as that policy found it](IntervalResult::seen_by), so that a policy
    /// counts only its own results. `None` when no interval records
    /// per-policy results (no history, or one written before them).
    pub fn seen_by(&self, policy: &str) -> Option<Snapshot> {
        let rollout = self.rollout.as_ref()?;
        if !rollout.history.iter().any(IntervalResult::is_per_policy) {
            return None;
        }
        let mut own = self.clone();
        if let Some(rollout) = &mut own.rollout {
            for interval in &mut rollout.history {
                *interval = interval.seen_by(policy);
            }
        }
        Some(own)
    }

    /// A snapshot with only the deployment section filled in.
    pub fn new(deployment: Deployment) -> Self {
        Snapshot {
            deployment,
            ci: None,
            change: None,
            environment: None,
            rollout: None,
            health: None,
            metrics: Vec::new(),
            alerts: Vec::new(),
            error_signatures: Vec::new(),
            history: Vec::new(),
            labels: Labels::new(),
            gaps: Vec::new(),
        }
    }

    /// The metric with this name, if the host collected it.
    pub fn metric(&self, name: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The gap recorded for this source, if the host could not read it.
    pub fn gap(&self, source: &str) -> Option<&Gap> {
        self.gaps.iter().find(|g| g.source == source)
    }
}

/// What is being deployed, where and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// The service's name.
    pub service: String,
    /// The target environment (`production`, `staging`, ...).
    pub environment: String,
    /// The version being deployed.
    pub version: String,
    /// The commit being deployed.
    pub commit: String,
    /// The commit currently deployed: the base of the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_commit: Option<String>,
    /// The pull request that carries the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequest>,
    /// Regular, hotfix or rollback.
    #[serde(default)]
    pub kind: DeployKind,
    /// Incident severity, for a hotfix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// When the deploy was requested (UTC).
    pub requested_at: Timestamp,
    /// The organisation's offset from UTC in minutes (e.g. `60` for CET).
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// Who asked for the deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// A pull request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Who opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The branch it merges into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
    /// The branch it merges from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_branch: Option<String>,
    /// Where to see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One CI check of the commit being deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// The check's name.
    pub name: String,
    /// How it ended, or `pending`.
    pub conclusion: CheckConclusion,
    /// Whether the check is required for this environment.
    #[serde(default)]
    pub required: bool,
    /// Where to see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Test counts of one suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TestSuite {
    /// The suite's name.
    pub name: String,
    /// Tests run.
    pub tests: u32,
    /// Tests that failed an assertion.
    #[serde(default)]
    pub failures: u32,
    /// Tests that errored.
    #[serde(default)]
    pub errors: u32,
    /// Tests skipped.
    #[serde(default)]
    pub skipped: u32,
    /// How long the suite took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Whether it is a smoke test of the deployed service (a JUnit source
    /// with `smoke = true`), which the `verify` stage judges.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub smoke: bool,
}

/// A build artifact, e.g. a container image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Artifact {
    /// The artifact's name.
    pub name: String,
    /// `image`, `binary`, `package`, ...
    #[serde(default)]
    pub kind: String,
    /// Where it is (an image reference, a URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Whether it was built successfully.
    pub built: bool,
    /// Its content digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A review of the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Who reviewed.
    pub reviewer: String,
    /// What they said.
    pub state: ReviewState,
    /// Whether the reviewer is a person (not a bot).
    #[serde(default = "yes")]
    pub human: bool,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

fn yes() -> bool {
    true
}

/// CI results of the commit being deployed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Ci {
    /// Checks and their conclusions.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// Test counts per suite.
    #[serde(default)]
    pub test_suites: Vec<TestSuite>,
    /// Line coverage in percent (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_percent: Option<f64>,
    /// Built artifacts.
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    /// Whether the change merges cleanly into its base.
    #[serde(default)]
    pub merge_state: MergeState,
    /// How many commits the branch is behind its base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commits_behind_base: Option<u32>,
    /// Reviews of the change.
    #[serde(default)]
    pub approvals: Vec<Approval>,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FileChange {
    /// Path from the repository root.
    pub path: String,
    /// Added, modified, deleted or renamed.
    #[serde(default)]
    pub status: FileStatus,
    /// Lines added.
    #[serde(default)]
    pub lines_added: u32,
    /// Lines removed.
    #[serde(default)]
    pub lines_removed: u32,
}

/// One commit of the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitInfo {
    /// The commit id.
    pub sha: String,
    /// The first line of its message.
    pub subject: String,
    /// Its author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

/// A database migration in the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Migration {
    /// The migration's path.
    pub path: String,
    /// The framework it belongs to, when known (`diesel`, `rails`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
}

/// A breaking change announced by the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BreakingChange {
    /// Where it was found: a commit id or a file.
    pub source: String,
    /// What breaks.
    pub description: String,
}

/// A dependency added, removed or updated by the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DependencyChange {
    /// `cargo`, `npm`, `go`, `pypi`, ...
    pub ecosystem: String,
    /// The package's name.
    pub name: String,
    /// Added, removed or updated.
    pub change: DependencyChangeKind,
    /// The version before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_version: Option<String>,
    /// The version after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_version: Option<String>,
}

/// What the change touches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Changed files with line counts.
    #[serde(default)]
    pub files: Vec<FileChange>,
    /// The commits, oldest first.
    #[serde(default)]
    pub commits: Vec<CommitInfo>,
    /// Database migrations.
    #[serde(default)]
    pub migrations: Vec<Migration>,
    /// Announced breaking changes.
    #[serde(default)]
    pub breaking_changes: Vec<BreakingChange>,
    /// Dependency changes from lockfiles.
    #[serde(default)]
    pub dependency_changes: Vec<DependencyChange>,
    /// Named areas (from path globs in the host's config) the change touches.
    #[serde(default)]
    pub areas: Vec<String>,
}

impl Change {
    /// Lines added and removed over all files.
    pub fn line_counts(&self) -> (u64, u64) {
        self.files.iter().fold((0, 0), |(a, r), f| {
            (a + u64::from(f.lines_added), r + u64::from(f.lines_removed))
        })
    }
}

/// A variable the change's code declares (e.g. in `.env.example`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnvVar {
    /// The variable's name.
    pub name: String,
    /// Whether the service needs it.
    #[serde(default)]
    pub required: bool,
    /// Whether it has a default value.
    #[serde(default)]
    pub has_default: bool,
    /// Whether it is documented (a comment next to it).
    #[serde(default)]
    pub documented: bool,
    /// Whether this change adds the declaration.
    #[serde(default)]
    pub added: bool,
}

/// Environment variables: names only, never values.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Variables the code declares.
    #[serde(default)]
    pub declared: Vec<EnvVar>,
    /// The names present in the target environment.
    #[serde(default)]
    pub present: Vec<String>,
}

impl Environment {
    /// Whether the target environment has this name.
    pub fn is_present(&self, name: &str) -> bool {
        self.present.iter().any(|p| p == name)
    }
}

/// One step of a rollout plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutStep {
    /// Share of traffic on the new version, 0–100.
    pub traffic_percent: u8,
    /// How long to hold and watch at this share.
    pub hold_seconds: u32,
}

/// A progressive rollout in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// How traffic moves.
    #[serde(default)]
    pub strategy: RolloutStrategy,
    /// Index of the current step in `steps`.
    #[serde(default)]
    pub phase: u32,
    /// Share of traffic on the new version now.
    pub traffic_percent: u8,
    /// How long the current phase has run.
    #[serde(default)]
    pub seconds_in_phase: u32,
    /// The planned steps.
    #[serde(default)]
    pub steps: Vec<RolloutStep>,
    /// Earlier intervals' results, oldest first.
    #[serde(default)]
    pub history: Vec<IntervalResult>,
}

/// A value that was read, but too long ago.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StaleValue {
    /// The last value read.
    pub value: f64,
    /// How old it is.
    pub age_seconds: u32,
}

/// One measurement of a metric. Missing data is a variant of its own: a
/// policy must say what it does when there is no number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Measurement {
    /// One value.
    Value(f64),
    /// A series of samples.
    Samples(Vec<f64>),
    /// The source answered with nothing (an empty vector, NaN).
    NoData,
    /// The source failed.
    Error(String),
    /// The last value is older than the freshness bound.
    Stale(StaleValue),
}

impl Measurement {
    /// A usable number: the value, or the mean of the samples. `None` for
    /// missing, errored or stale data and for an empty or non-finite result.
    pub fn value(&self) -> Option<f64> {
        let v = match self {
            Measurement::Value(v) => *v,
            Measurement::Samples(s) if !s.is_empty() => s.iter().sum::<f64>() / s.len() as f64,
            _ => return None,
        };
        v.is_finite().then_some(v)
    }

    /// Why there is no usable number, or `None` if there is one.
    pub fn missing_reason(&self) -> Option<String> {
        match self {
            Measurement::Value(v) if v.is_finite() => None,
            Measurement::Value(v) => Some(format!("value is {v}")),
            Measurement::Samples(s) if s.is_empty() => Some("no samples".into()),
            Measurement::Samples(_) => self
                .value()
                .is_none()
                .then(|| "samples are not finite".into()),
            Measurement::NoData => Some("no data".into()),
            Measurement::Error(e) => Some(format!("error: {e}")),
            Measurement::Stale(s) => Some(format!("stale ({}s old)", s.age_seconds)),
        }
    }
}

/// Baseline and canary measurements of one metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// The metric's name (`error_rate`, `latency_p95`, ...).
    pub name: String,
    /// Its unit (`ratio`, `seconds`, `percent`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The stable version's measurement.
    pub baseline: Measurement,
    /// The new version's measurement.
    pub canary: Measurement,
}

/// An alert firing now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// The alert's name.
    pub name: String,
    /// Its severity label, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Since when it fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Its labels.
    #[serde(default)]
    pub labels: Labels,
}

/// An error signature from the logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorSignature {
    /// The normalised error message or fingerprint.
    pub signature: String,
    /// How often it was seen.
    #[serde(default)]
    pub count: u64,
    /// Not seen before this deploy.
    #[serde(default)]
    pub new: bool,
    /// Marked critical.
    #[serde(default)]
    pub critical: bool,
}

/// An earlier deployment of the same service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PastDeployment {
    /// The version deployed.
    pub version: String,
    /// When.
    pub at: Timestamp,
    /// How it ended.
    pub outcome: DeploymentOutcome,
    /// Regular, hotfix or rollback.
    #[serde(default)]
    pub kind: DeployKind,
}

/// A source the host could not read, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Gap {
    /// The source (`prometheus`, `git`, `github`, ...).
    pub source: String,
    /// Why it could not be read.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keeps_the_sections_read_the_deployment_and_the_gaps() {
        let json = include_str!("../../../examples/snapshots/release-full.json");
        let full: Snapshot = serde_json::from_str(json).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(full.ci.is_some() && !full.metrics.is_empty() && !full.labels.is_empty());
        let part = full.only(&[Section::Metrics]);
        assert_eq!(part.metrics, full.metrics);
        assert_eq!(part.deployment, full.deployment);
        assert_eq!(part.gaps, full.gaps);
        assert!(part.ci.is_none() && part.change.is_none() && part.labels.is_empty());
        assert!(part.history.is_empty() && part.alerts.is_empty());
        assert_eq!(full.only(Section::ALL), full);
    }

    #[test]
    fn health_probes_without_a_rollout_ask_verify() {
        let json = include_str!("../../../examples/snapshots/release-full.json");
        let mut s: Snapshot = serde_json::from_str(json).unwrap_or_else(|e| unreachable!("{e}"));
        s.rollout = None;
        assert_eq!(s.default_stage(), Stage::Gate);
        s.health = Some(Health::default());
        assert_eq!(s.default_stage(), Stage::Verify);
        s.rollout = serde_json::from_str(
            r#"{"strategy": "canary", "phase": 0, "traffic_percent": 10, "seconds_in_phase": 0}"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(s.default_stage(), Stage::Canary);
    }
}
