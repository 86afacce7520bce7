//! The WIT contract's records and enums, listed once.
//!
//! `wit/policy.wit` describes the snapshot and the decision twice over in
//! Rust: the host's `wasmtime::component::bindgen!` and the guest SDK's
//! `wit_bindgen::generate!` each generate an `api` module of component-model
//! types, and both convert those to and from this crate's serde types. The
//! field and variant names are the same on all sides, so the conversions are
//! written once, from two tables:
//!
//! - [`foreach_record!`](crate::foreach_record!): every record with a model twin, and its fields;
//! - [`foreach_enum!`](crate::foreach_enum!): every enum and variant with a model twin, and its
//!   cases (a case with a payload names it, `Value(value)`).
//!
//! Each calls a macro of the caller's with the whole list (the pattern of
//! wasmtime's `foreach_*` macros). [`impl_conversions!`](crate::impl_conversions!) expands both with
//! [`conv_records!`](crate::conv_records!) and [`conv_enums!`](crate::conv_enums!) into [`Conv`] impls in both
//! directions, and that one line is all each side writes:
//!
//! ```ignore
//! // host/src/bindings.rs and guest-sdk/src/__private.rs alike
//! use exports::shipgate::policy::api;
//! shipgate_model::impl_conversions!(api);
//! ```
//!
//! A record conversion destructures its source without `..` and builds its
//! target with a struct literal, so a field that the table forgets, on
//! either type, fails to compile on both sides: a WIT change touches the
//! `.wit` file, the model type and one line of the table. This crate checks
//! its own types against the tables too, so the model cannot drift from the
//! table even before a binding is built.

use crate::{Labels, Timestamp};

/// A conversion between a component-model type and its model twin (in
/// either direction), as the generated bindings need it.
///
/// Implemented here for what the contract shares (lists, options, numbers,
/// strings, timestamps, labels); [`impl_conversions!`](crate::impl_conversions!) implements it for the
/// records and enums of the tables.
pub trait Conv<T> {
    /// The value as `T`.
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

/// Values that are the same type on both sides.
macro_rules! same {
    ($($t:ty),+) => {
        $(impl Conv<$t> for $t {
            fn conv(self) -> $t {
                self
            }
        })+
    };
}

same!(String, bool, u8, u16, u32, u64, i32, f64);

/// A WIT `timestamp` is milliseconds since the Unix epoch.
impl Conv<i64> for Timestamp {
    fn conv(self) -> i64 {
        self.0
    }
}

impl Conv<Timestamp> for i64 {
    fn conv(self) -> Timestamp {
        Timestamp(self)
    }
}

/// WIT has no maps: labels are a `list<tuple<string, string>>`.
impl Conv<Vec<(String, String)>> for Labels {
    fn conv(self) -> Vec<(String, String)> {
        self.into_iter().collect()
    }
}

impl Conv<Labels> for Vec<(String, String)> {
    fn conv(self) -> Labels {
        self.into_iter().collect()
    }
}

/// Calls `callback!` with every record of the contract that has a model
/// twin, as `Name { field, ... }`, in the order of `wit/policy.wit`; extra
/// arguments come first, before a `;`.
///
/// The record's name is the same in the model (`shipgate_model::Name`) and
/// in the generated `api` module, and so are its fields.
///
/// ```
/// // How many fields each record has.
/// macro_rules! field_counts {
///     ($($name:ident { $($field:ident),* $(,)? })*) => {
///         const COUNTS: &[(&str, usize)] = &[$((stringify!($name), [$(stringify!($field)),*].len())),*];
///     };
/// }
/// shipgate_model::foreach_record!(field_counts);
/// assert!(COUNTS.contains(&("Gap", 2)));
/// assert!(COUNTS.contains(&("Snapshot", 12)));
/// ```
#[macro_export]
macro_rules! foreach_record {
    ($callback:path $(, $($args:tt)*)?) => {
        $callback! {
            $($($args)*;)?
            PullRequest { number, title, author, base_branch, head_branch, url }
            Deployment {
                service, environment, version, commit, base_commit, pull_request, kind, severity,
                requested_at, utc_offset_minutes, actor,
            }
            Check { name, conclusion, required, url }
            TestSuite { name, tests, failures, errors, skipped, duration_ms, smoke }
            Artifact { name, kind, reference, built, digest }
            Approval { reviewer, state, human, at }
            Ci {
                checks, test_suites, coverage_percent, artifacts, merge_state,
                commits_behind_base, approvals,
            }
            FileChange { path, status, lines_added, lines_removed }
            CommitInfo { sha, subject, author }
            Migration { path, framework }
            BreakingChange { source, description }
            DependencyChange { ecosystem, name, change, from_version, to_version }
            Change { files, commits, migrations, breaking_changes, dependency_changes, areas }
            EnvVar { name, required, has_default, documented, added }
            Environment { declared, present }
            RolloutStep { traffic_percent, hold_seconds }
            MetricInterval { metric, outcome, rules }
            PolicyInterval { policy, advisory, verdict, data_missing, rules, metrics }
            IntervalResult { phase, at, verdict, data_missing, rules, policies }
            ProbeResult { status, latency_ms, body_matched, error, tries }
            Probe { name, url, expected_status, results }
            Health { probes }
            Rollout { strategy, phase, traffic_percent, seconds_in_phase, steps, history }
            StaleValue { value, age_seconds }
            Metric { name, unit, baseline, canary }
            Alert { name, severity, since, labels }
            ErrorSignature { signature, count, new, critical }
            PastDeployment { version, at, outcome, kind }
            Gap { source, reason }
            Snapshot {
                deployment, ci, change, environment, rollout, health, metrics, alerts,
                error_signatures, history, labels, gaps,
            }
            Evidence { observed, expected }
            Finding { rule, verdict, message, evidence, metric }
            Decision { verdict, risk, findings, requirements }
        }
    };
}

/// Calls `callback!` with every enum and variant of the contract that has a
/// model twin, as `Name { Case, Case(payload), ... }`, in the order of
/// `wit/policy.wit`; extra arguments come first, before a `;`.
///
/// A case with a payload names it (`Value(value)`), so that a callback can
/// bind it.
///
/// ```
/// macro_rules! names {
///     ($($name:ident { $($case:ident $(($payload:ident))?),* $(,)? })*) => {
///         const ENUMS: &[&str] = &[$(stringify!($name)),*];
///     };
/// }
/// shipgate_model::foreach_enum!(names);
/// assert!(ENUMS.contains(&"Verdict") && ENUMS.contains(&"Measurement"));
/// ```
#[macro_export]
macro_rules! foreach_enum {
    ($callback:path $(, $($args:tt)*)?) => {
        $callback! {
            $($($args)*;)?
            Stage { Gate, Canary, Risk, Verify }
            Verdict { Go, Hold, NoGo, Rollback }
            RiskLevel { Low, Medium, High, Critical }
            Section {
                Deployment, Ci, Change, Environment, Rollout, Metrics, Alerts, ErrorSignatures,
                History, Labels, Health,
            }
            DeployKind { Regular, Hotfix, Rollback }
            Severity { P0, P1, P2, P3 }
            CheckConclusion {
                Success, Failure, Neutral, Cancelled, Skipped, TimedOut, ActionRequired, Pending,
                Stale,
            }
            MergeState { Clean, Behind, Conflicting, Blocked, Unknown }
            ReviewState { Approved, ChangesRequested, Commented, Dismissed }
            FileStatus { Added, Modified, Deleted, Renamed }
            DependencyChangeKind { Added, Removed, Updated }
            RolloutStrategy { Canary, BlueGreen, Rolling, AllAtOnce }
            MetricOutcome { Failed, Inconclusive, DataMissing }
            Measurement { Value(value), Samples(samples), NoData, Error(message), Stale(stale) }
            DeploymentOutcome { Succeeded, Failed, RolledBack }
            Requirement {
                ManualApproval(why), MaintenanceWindow, ExtendedMonitoringHours(hours),
                EnhancedMonitoring, StagedRollout, CanaryDeployment, FeatureFlag, RollbackPlan,
                FullBackup, RolloutPlan(steps), Other(text),
            }
        }
    };
}

/// Implements [`Conv`] both ways between each record of the list and its
/// twin in the module `$api`: the [`foreach_record!`](crate::foreach_record!) callback of
/// [`impl_conversions!`](crate::impl_conversions!).
///
/// Each direction destructures its source without `..` and builds its
/// target with every field, so the list must name every field of both:
///
/// ```
/// mod api {
///     pub struct Gap { pub source: String, pub reason: String }
/// }
/// shipgate_model::conv_records!(api; Gap { source, reason });
/// ```
///
/// A field the list forgets does not compile, whichever side has it (here
/// the contract grew `gap.since`):
///
/// ```compile_fail,E0027
/// mod api {
///     pub struct Gap { pub source: String, pub reason: String, pub since: i64 }
/// }
/// shipgate_model::conv_records!(api; Gap { source, reason });
/// ```
#[macro_export]
macro_rules! conv_records {
    ($api:ident; $($name:ident { $($field:ident),* $(,)? })*) => {
        $(
            impl $crate::contract::Conv<$api::$name> for $crate::$name {
                fn conv(self) -> $api::$name {
                    let $crate::$name { $($field),* } = self;
                    $api::$name { $($field: $crate::contract::Conv::conv($field)),* }
                }
            }
            impl $crate::contract::Conv<$crate::$name> for $api::$name {
                fn conv(self) -> $crate::$name {
                    let $api::$name { $($field),* } = self;
                    $crate::$name { $($field: $crate::contract::Conv::conv($field)),* }
                }
            }
        )*
    };
}

/// Implements [`Conv`] both ways between each enum of the list and its twin
/// in the module `$api`, case by case (a payload is converted too): the
/// [`foreach_enum!`](crate::foreach_enum!) callback of [`impl_conversions!`](crate::impl_conversions!).
///
/// ```
/// mod api {
///     pub enum Stage { Gate, Canary, Risk, Verify }
/// }
/// shipgate_model::conv_enums!(api; Stage { Gate, Canary, Risk, Verify });
/// ```
///
/// A `match` names every case of its source, so a case the list forgets
/// does not compile either:
///
/// ```compile_fail,E0004
/// mod api {
///     pub enum Stage { Gate, Canary, Risk, Verify, Review }
/// }
/// shipgate_model::conv_enums!(api; Stage { Gate, Canary, Risk, Verify });
/// ```
#[macro_export]
macro_rules! conv_enums {
    ($api:ident; $($name:ident { $($case:ident $(($payload:ident))?),* $(,)? })*) => {
        $(
            impl $crate::contract::Conv<$api::$name> for $crate::$name {
                fn conv(self) -> $api::$name {
                    match self {
                        $($crate::$name::$case $(($payload))? => $api::$name::$case
                            $(($crate::contract::Conv::conv($payload)))?,)*
                    }
                }
            }
            impl $crate::contract::Conv<$crate::$name> for $api::$name {
                fn conv(self) -> $crate::$name {
                    match self {
                        $($api::$name::$case $(($payload))? => $crate::$name::$case
                            $(($crate::contract::Conv::conv($payload)))?,)*
                    }
                }
            }
        )*
    };
}

/// Implements [`Conv`] both ways between every record and enum of the
/// contract and its twin in the generated module `$api`: the whole of the
/// conversions, for the host's bindings and the guest SDK's alike.
#[macro_export]
macro_rules! impl_conversions {
    ($api:ident) => {
        $crate::foreach_record!($crate::conv_records, $api);
        $crate::foreach_enum!($crate::conv_enums, $api);
    };
}

/// The model's own types match the tables: every field and every case is
/// listed (a missing one fails to compile here, before any binding).
macro_rules! check_records {
    ($($name:ident { $($field:ident),* $(,)? })*) => {
        $(
            #[allow(dead_code)]
            fn $name(value: crate::$name) -> crate::$name {
                let crate::$name { $($field),* } = value;
                crate::$name { $($field),* }
            }
        )*
    };
}

macro_rules! check_enums {
    ($($name:ident { $($case:ident $(($payload:ident))?),* $(,)? })*) => {
        $(
            #[allow(dead_code)]
            fn $name(value: crate::$name) -> crate::$name {
                match value {
                    $(crate::$name::$case $(($payload))? => crate::$name::$case $(($payload))?,)*
                }
            }
        )*
    };
}

#[allow(non_snake_case)]
mod check {
    crate::foreach_record!(check_records);
    crate::foreach_enum!(check_enums);
}
