//! The component-model bindings of `wit/policy.wit` and the conversions
//! between them and the model types. Private: no generated type leaks into
//! the public API.

use shipgate_model as model;

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "policy",
});

pub(crate) use exports::shipgate::policy::api;

/// A conversion between a generated type and its model twin.
pub(crate) trait Conv<T> {
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

impl Conv<i64> for model::Timestamp {
    fn conv(self) -> i64 {
        self.0
    }
}

impl Conv<Vec<(String, String)>> for model::Labels {
    fn conv(self) -> Vec<(String, String)> {
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
    ($($from:ty => $to:path { $($f:ident),+ $(,)? })+) => {
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
    api::Section => model::Section {
        Deployment, Ci, Change, Environment, Rollout, Metrics, Alerts, ErrorSignatures, History,
        Labels,
    }
    model::Verdict => api::Verdict { Go, Hold, NoGo, Rollback }
    api::Verdict => model::Verdict { Go, Hold, NoGo, Rollback }
    api::RiskLevel => model::RiskLevel { Low, Medium, High, Critical }
    model::DeployKind => api::DeployKind { Regular, Hotfix, Rollback }
    model::Severity => api::Severity { P0, P1, P2, P3 }
    model::CheckConclusion => api::CheckConclusion {
        Success, Failure, Neutral, Cancelled, Skipped, TimedOut, ActionRequired, Pending, Stale,
    }
    model::MergeState => api::MergeState { Clean, Behind, Conflicting, Blocked, Unknown }
    model::ReviewState => api::ReviewState { Approved, ChangesRequested, Commented, Dismissed }
    model::FileStatus => api::FileStatus { Added, Modified, Deleted, Renamed }
    model::DependencyChangeKind => api::DependencyChangeKind { Added, Removed, Updated }
    model::RolloutStrategy => api::RolloutStrategy { Canary, BlueGreen, Rolling, AllAtOnce }
    model::DeploymentOutcome => api::DeploymentOutcome { Succeeded, Failed, RolledBack }
}

records! {
    model::Snapshot => api::Snapshot {
        deployment, ci, change, environment, rollout, metrics, alerts, error_signatures, history,
        labels, gaps,
    }
    model::Deployment => api::Deployment {
        service, environment, version, commit, base_commit, pull_request, kind, severity,
        requested_at, utc_offset_minutes, actor,
    }
    model::PullRequest => api::PullRequest { number, title, author, base_branch, head_branch, url }
    model::Ci => api::Ci {
        checks, test_suites, coverage_percent, artifacts, merge_state, commits_behind_base,
        approvals,
    }
    model::Check => api::Check { name, conclusion, required, url }
    model::TestSuite => api::TestSuite { name, tests, failures, errors, skipped, duration_ms }
    model::Artifact => api::Artifact { name, kind, reference, built, digest }
    model::Approval => api::Approval { reviewer, state, human, at }
    model::Change => api::Change {
        files, commits, migrations, breaking_changes, dependency_changes, areas,
    }
    model::FileChange => api::FileChange { path, status, lines_added, lines_removed }
    model::CommitInfo => api::CommitInfo { sha, subject, author }
    model::Migration => api::Migration { path, framework }
    model::BreakingChange => api::BreakingChange { source, description }
    model::DependencyChange => api::DependencyChange {
        ecosystem, name, change, from_version, to_version,
    }
    model::Environment => api::Environment { declared, present }
    model::EnvVar => api::EnvVar { name, required, has_default, documented, added }
    model::Rollout => api::Rollout {
        strategy, phase, traffic_percent, seconds_in_phase, steps, history,
    }
    model::RolloutStep => api::RolloutStep { traffic_percent, hold_seconds }
    model::IntervalResult => api::IntervalResult { phase, at, verdict, data_missing, rules }
    model::Metric => api::Metric { name, unit, baseline, canary }
    model::StaleValue => api::StaleValue { value, age_seconds }
    model::Alert => api::Alert { name, severity, since, labels }
    model::ErrorSignature => api::ErrorSignature { signature, count, new, critical }
    model::PastDeployment => api::PastDeployment { version, at, outcome, kind }
    model::Gap => api::Gap { source, reason }
    api::RolloutStep => model::RolloutStep { traffic_percent, hold_seconds }
    api::Evidence => model::Evidence { observed, expected }
    api::Finding => model::Finding { rule, verdict, message, evidence, metric }
    api::Decision => model::Decision { verdict, risk, findings, requirements }
}

impl Conv<api::Measurement> for model::Measurement {
    fn conv(self) -> api::Measurement {
        use api::Measurement as M;
        match self {
            model::Measurement::Value(v) => M::Value(v),
            model::Measurement::Samples(s) => M::Samples(s),
            model::Measurement::NoData => M::NoData,
            model::Measurement::Error(e) => M::Error(e),
            model::Measurement::Stale(s) => M::Stale(s.conv()),
        }
    }
}

impl Conv<model::Requirement> for api::Requirement {
    fn conv(self) -> model::Requirement {
        use model::Requirement as R;
        match self {
            api::Requirement::ManualApproval(s) => R::ManualApproval(s),
            api::Requirement::MaintenanceWindow => R::MaintenanceWindow,
            api::Requirement::ExtendedMonitoringHours(h) => R::ExtendedMonitoringHours(h),
            api::Requirement::EnhancedMonitoring => R::EnhancedMonitoring,
            api::Requirement::StagedRollout => R::StagedRollout,
            api::Requirement::CanaryDeployment => R::CanaryDeployment,
            api::Requirement::FeatureFlag => R::FeatureFlag,
            api::Requirement::RollbackPlan => R::RollbackPlan,
            api::Requirement::FullBackup => R::FullBackup,
            api::Requirement::RolloutPlan(steps) => R::RolloutPlan(steps.conv()),
            api::Requirement::Other(s) => R::Other(s),
        }
    }
}

/// The evaluation input of the contract.
pub(crate) fn evaluation(
    stage: model::Stage,
    snapshot: &model::Snapshot,
    config: &str,
) -> api::Evaluation {
    api::Evaluation {
        stage: stage.conv(),
        snapshot: snapshot.clone().conv(),
        config: config.to_owned(),
    }
}
