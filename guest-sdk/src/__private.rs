//! The component-model side of the SDK: generated bindings and the
//! conversions between them and [`crate::model`]. Not part of the API; the
//! [`export_policy!`](crate::export_policy) macro expands to calls into it.

#![allow(missing_docs)]

use crate::{ConfigError, Policy, model, parse_config};

/// The bindings generated from `wit/policy.wit`.
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "policy",
        pub_export_macro: true,
        export_macro_name: "__export_policy_impl",
        default_bindings_module: "::shipgate_sdk::__private::bindings",
        runtime_path: "::shipgate_sdk::__private::wit_bindgen::rt",
    });
}

pub use bindings::exports::shipgate::policy::api;
pub use bindings::exports::shipgate::policy::api::Guest;
pub use wit_bindgen;

/// `info` of the contract.
pub fn info<P: Policy>() -> api::PolicyInfo {
    let info = P::info();
    api::PolicyInfo {
        name: info.name,
        version: info.version,
        description: info.description,
        stages: info.stages.conv(),
        reads: info.reads.conv(),
        rules: info
            .rules
            .into_iter()
            .map(|r| api::RuleInfo {
                id: r.id,
                description: r.description,
            })
            .collect(),
    }
}

/// `validate-config` of the contract.
pub fn validate_config<P: Policy>(config: &str) -> Result<(), api::ConfigError> {
    parse_config::<P>(config)
        .map(|_| ())
        .map_err(|ConfigError { key, message }| api::ConfigError { key, message })
}

/// `evaluate` of the contract.
pub fn evaluate<P: Policy>(input: api::Evaluation) -> Result<api::Decision, String> {
    let config = parse_config::<P>(&input.config).map_err(|e| format!("invalid config: {e}"))?;
    let stage: model::Stage = input.stage.conv();
    let snapshot: model::Snapshot = input.snapshot.conv();
    P::evaluate(stage, &snapshot, &config).map(Conv::conv)
}

/// A conversion between a generated type and its model twin.
pub trait Conv<T> {
    fn conv(self) -> T;
}

impl<A: Conv<B>, B> Conv<Vec<B>> for Vec<A> {
    fn conv(self) -> Vec<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

impl<A: Conv<B>, B> Conv<Option<B>> for Option<A> {
    fn conv(self) -> Option<B> {
        self.map(Conv::conv)
    }
}

impl Conv<model::Timestamp> for i64 {
    fn conv(self) -> model::Timestamp {
        model::Timestamp(self)
    }
}

impl Conv<model::Labels> for Vec<(String, String)> {
    fn conv(self) -> model::Labels {
        self.into_iter().collect()
    }
}

/// Same-named enum variants, one direction.
macro_rules! enums {
    ($($from:ty => $to:ty { $($v:ident),+ $(,)? })+) => {
        $(impl Conv<$to> for $from {
            fn conv(self) -> $to {
                match self { $(<$from>::$v => <$to>::$v),+ }
            }
        })+
    };
}

/// Same-named record fields, one direction.
macro_rules! records {
    ($($from:ty => $to:ident { $($f:ident),+ $(,)? })+) => {
        $(impl Conv<$to> for $from {
            fn conv(self) -> $to {
                $to { $($f: self.$f.conv()),+ }
            }
        })+
    };
}

/// Values that need no conversion.
macro_rules! same {
    ($($t:ty),+) => {
        $(impl Conv<$t> for $t {
            fn conv(self) -> $t {
                self
            }
        })+
    };
}

same!(String, bool, u8, u32, u64, i32, f64);

enums! {
    model::Stage => api::Stage { Gate, Canary, Risk }
    api::Stage => model::Stage { Gate, Canary, Risk }
    model::Section => api::Section {
        Deployment, Ci, Change, Environment, Rollout, Metrics, Alerts, ErrorSignatures, History,
        Labels,
    }
    model::Verdict => api::Verdict { Go, Hold, NoGo, Rollback }
    api::Verdict => model::Verdict { Go, Hold, NoGo, Rollback }
    model::RiskLevel => api::RiskLevel { Low, Medium, High, Critical }
    api::DeployKind => model::DeployKind { Regular, Hotfix, Rollback }
    api::Severity => model::Severity { P0, P1, P2, P3 }
    api::CheckConclusion => model::CheckConclusion {
        Success, Failure, Neutral, Cancelled, Skipped, TimedOut, ActionRequired, Pending, Stale,
    }
    api::MergeState => model::MergeState { Clean, Behind, Conflicting, Blocked, Unknown }
    api::ReviewState => model::ReviewState { Approved, ChangesRequested, Commented, Dismissed }
    api::FileStatus => model::FileStatus { Added, Modified, Deleted, Renamed }
    api::DependencyChangeKind => model::DependencyChangeKind { Added, Removed, Updated }
    api::RolloutStrategy => model::RolloutStrategy { Canary, BlueGreen, Rolling, AllAtOnce }
    api::DeploymentOutcome => model::DeploymentOutcome { Succeeded, Failed, RolledBack }
}

use model::{
    Alert, Approval, Artifact, BreakingChange, Change, Check, Ci, CommitInfo, DependencyChange,
    Deployment, EnvVar, Environment, ErrorSignature, FileChange, Gap, IntervalResult, Metric,
    Migration, PastDeployment, PullRequest, Rollout, RolloutStep, Snapshot, StaleValue, TestSuite,
};

records! {
    api::Snapshot => Snapshot {
        deployment, ci, change, environment, rollout, metrics, alerts, error_signatures, history,
        labels, gaps,
    }
    api::Deployment => Deployment {
        service, environment, version, commit, base_commit, pull_request, kind, severity,
        requested_at, utc_offset_minutes, actor,
    }
    api::PullRequest => PullRequest { number, title, author, base_branch, head_branch, url }
    api::Ci => Ci {
        checks, test_suites, coverage_percent, artifacts, merge_state, commits_behind_base,
        approvals,
    }
    api::Check => Check { name, conclusion, required, url }
    api::TestSuite => TestSuite { name, tests, failures, errors, skipped, duration_ms }
    api::Artifact => Artifact { name, kind, reference, built, digest }
    api::Approval => Approval { reviewer, state, human, at }
    api::Change => Change {
        files, commits, migrations, breaking_changes, dependency_changes, areas,
    }
    api::FileChange => FileChange { path, status, lines_added, lines_removed }
    api::CommitInfo => CommitInfo { sha, subject, author }
    api::Migration => Migration { path, framework }
    api::BreakingChange => BreakingChange { source, description }
    api::DependencyChange => DependencyChange { ecosystem, name, change, from_version, to_version }
    api::Environment => Environment { declared, present }
    api::EnvVar => EnvVar { name, required, has_default, documented, added }
    api::Rollout => Rollout {
        strategy, phase, traffic_percent, seconds_in_phase, steps, history,
    }
    api::RolloutStep => RolloutStep { traffic_percent, hold_seconds }
    api::IntervalResult => IntervalResult { phase, at, verdict, data_missing, rules }
    api::Metric => Metric { name, unit, baseline, canary }
    api::StaleValue => StaleValue { value, age_seconds }
    api::Alert => Alert { name, severity, since, labels }
    api::ErrorSignature => ErrorSignature { signature, count, new, critical }
    api::PastDeployment => PastDeployment { version, at, outcome, kind }
    api::Gap => Gap { source, reason }
}

impl Conv<model::Measurement> for api::Measurement {
    fn conv(self) -> model::Measurement {
        use model::Measurement as M;
        match self {
            api::Measurement::Value(v) => M::Value(v),
            api::Measurement::Samples(s) => M::Samples(s),
            api::Measurement::NoData => M::NoData,
            api::Measurement::Error(e) => M::Error(e),
            api::Measurement::Stale(s) => M::Stale(s.conv()),
        }
    }
}

impl Conv<api::RolloutStep> for RolloutStep {
    fn conv(self) -> api::RolloutStep {
        api::RolloutStep {
            traffic_percent: self.traffic_percent,
            hold_seconds: self.hold_seconds,
        }
    }
}

impl Conv<api::Decision> for model::Decision {
    fn conv(self) -> api::Decision {
        api::Decision {
            verdict: self.verdict.conv(),
            risk: self.risk.conv(),
            findings: self.findings.conv(),
            requirements: self.requirements.conv(),
        }
    }
}

impl Conv<api::Finding> for model::Finding {
    fn conv(self) -> api::Finding {
        api::Finding {
            rule: self.rule,
            verdict: self.verdict.conv(),
            message: self.message,
            evidence: self.evidence.map(|e| api::Evidence {
                observed: e.observed,
                expected: e.expected,
            }),
            metric: self.metric,
        }
    }
}

impl Conv<api::Requirement> for model::Requirement {
    fn conv(self) -> api::Requirement {
        use api::Requirement as R;
        match self {
            model::Requirement::ManualApproval(s) => R::ManualApproval(s),
            model::Requirement::MaintenanceWindow => R::MaintenanceWindow,
            model::Requirement::ExtendedMonitoringHours(h) => R::ExtendedMonitoringHours(h),
            model::Requirement::EnhancedMonitoring => R::EnhancedMonitoring,
            model::Requirement::StagedRollout => R::StagedRollout,
            model::Requirement::CanaryDeployment => R::CanaryDeployment,
            model::Requirement::FeatureFlag => R::FeatureFlag,
            model::Requirement::RollbackPlan => R::RollbackPlan,
            model::Requirement::FullBackup => R::FullBackup,
            model::Requirement::RolloutPlan(steps) => R::RolloutPlan(steps.conv()),
            model::Requirement::Other(s) => R::Other(s),
        }
    }
}
