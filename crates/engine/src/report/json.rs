//! The report as JSON: `--format json` and the decision log's stored form.
//!
//! The JSON has its own schema, spelled out by the private view structs
//! below, so that changes to the internal [`Report`] type do not silently
//! change what scripts read or what a log holds.

use serde::Serialize;
use shipgate_model::{Requirement, RiskLevel, Stage, Verdict};

use super::{PolicyOutcome, PolicyReport, Report};
use crate::config::{BundleOrigin, Mode, OnError};
use crate::exit::ExitCode;

/// Renders a report as one pretty-printed JSON object, with a trailing
/// newline; every secret masked.
pub fn render(report: &Report) -> String {
    let view = JsonReport::new(report);
    let mut s = match serde_json::to_string_pretty(&view) {
        Ok(s) => s,
        // Unreachable in practice: every key is a string and every value
        // serializes. Still emit valid JSON rather than panic.
        Err(e) => serde_json::json!({ "error": e.to_string() }).to_string(),
    };
    s.push('\n');
    shipgate_core::redact::scrub(&s).into_owned()
}

/// The report as a JSON value, with the content of [`render`] (the
/// decision log stores it).
pub fn value(report: &Report) -> serde_json::Value {
    serde_json::to_value(JsonReport::new(report))
        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }))
}

#[derive(Serialize)]
struct JsonReport<'a> {
    verdict: Verdict,
    risk: Option<RiskLevel>,
    stage: Stage,
    exit_code: ExitCode,
    subject: JsonSubject<'a>,
    findings: Vec<JsonFinding<'a>>,
    requirements: Vec<JsonRequirement>,
    policies: Vec<JsonPolicy<'a>>,
    gaps: Vec<JsonGap<'a>>,
    /// The bundles the policies came from (absent when none did).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    bundles: &'a [BundleOrigin],
    /// The signed exceptions, applied or not (absent when there are none).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    exceptions: &'a [super::ExceptionReport],
}

#[derive(Serialize)]
struct JsonSubject<'a> {
    service: &'a str,
    environment: &'a str,
    version: &'a str,
    commit: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    policy: &'a str,
    rule: &'a str,
    verdict: Verdict,
    message: &'a str,
    advisory: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    observed: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRequirement {
    /// A stable kebab-case name (`maintenance-window`).
    kind: &'static str,
    /// The requirement as a person reads it.
    text: String,
}

#[derive(Serialize)]
struct JsonPolicy<'a> {
    name: &'a str,
    status: &'static str,
    verdict: Option<Verdict>,
    mode: &'a Mode,
    on_error: &'a OnError,
    counted: bool,
    sha256: &'a str,
    /// The bundle it came from, by name (absent for the configuration's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<&'a str>,
    failure: Option<JsonFailure<'a>>,
    risk: Option<RiskLevel>,
    fuel: u64,
    micros: u64,
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    kind: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonGap<'a> {
    source: &'a str,
    reason: &'a str,
}

impl<'a> JsonReport<'a> {
    fn new(r: &'a Report) -> Self {
        JsonReport {
            verdict: r.verdict,
            risk: r.risk,
            stage: r.stage,
            exit_code: r.exit_code(),
            subject: JsonSubject {
                service: &r.subject.service,
                environment: &r.subject.environment,
                version: &r.subject.version,
                commit: &r.subject.commit,
            },
            findings: r
                .findings
                .iter()
                .map(|f| JsonFinding {
                    policy: &f.policy,
                    rule: &f.finding.rule,
                    verdict: f.finding.verdict,
                    message: &f.finding.message,
                    advisory: f.advisory,
                    observed: f.finding.evidence.as_ref().map(|e| e.observed.as_str()),
                    expected: f.finding.evidence.as_ref().map(|e| e.expected.as_str()),
                })
                .collect(),
            requirements: r
                .requirements
                .iter()
                .map(|q| JsonRequirement {
                    kind: requirement_kind(q),
                    text: q.to_string(),
                })
                .collect(),
            policies: r.policies.iter().map(JsonPolicy::new).collect(),
            gaps: r
                .gaps
                .iter()
                .map(|g| JsonGap {
                    source: &g.source,
                    reason: &g.reason,
                })
                .collect(),
            bundles: &r.bundles,
            exceptions: &r.exceptions,
        }
    }
}

impl<'a> JsonPolicy<'a> {
    fn new(p: &'a PolicyReport) -> Self {
        let (failure, risk) = match &p.outcome {
            PolicyOutcome::Decided(d) => (None, d.risk),
            PolicyOutcome::Failed(f) => (
                Some(JsonFailure {
                    kind: f.kind.as_str(),
                    message: &f.message,
                }),
                None,
            ),
            PolicyOutcome::Skipped => (None, None),
        };
        JsonPolicy {
            name: &p.name,
            status: p.status(),
            verdict: p.verdict,
            mode: &p.mode,
            on_error: &p.on_error,
            counted: p.counted,
            sha256: &p.sha256,
            bundle: p.bundle.as_ref().map(|b| b.name.as_str()),
            failure,
            risk,
            fuel: p.usage.fuel,
            micros: p.usage.micros,
        }
    }
}

/// A requirement's stable machine name: its variant in kebab-case, as in the
/// decision's own JSON form.
fn requirement_kind(r: &Requirement) -> &'static str {
    match r {
        Requirement::ManualApproval(_) => "manual-approval",
        Requirement::MaintenanceWindow => "maintenance-window",
        Requirement::ExtendedMonitoringHours(_) => "extended-monitoring-hours",
        Requirement::EnhancedMonitoring => "enhanced-monitoring",
        Requirement::StagedRollout => "staged-rollout",
        Requirement::CanaryDeployment => "canary-deployment",
        Requirement::FeatureFlag => "feature-flag",
        Requirement::RollbackPlan => "rollback-plan",
        Requirement::FullBackup => "full-backup",
        Requirement::RolloutPlan(_) => "rollout-plan",
        Requirement::Other(_) => "other",
    }
}
