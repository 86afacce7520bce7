//! The aggregated result of asking every policy one question: a value, with
//! each policy's outcome as diagnostics.
//!
//! Its JSON form is [`json`]; text and Markdown are the command line's.

use serde::Serialize;
use shipgate_model::{Decision, Gap, Requirement, RiskLevel, Snapshot, Stage, Verdict};

use crate::config::{BundleOrigin, Mode, OnError};
use crate::exit::ExitCode;

mod interval;
pub mod json;

/// Why a policy produced no decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// It executed a trap (`unreachable`, out-of-bounds access, a Rust panic).
    Trap,
    /// It used up its fuel budget.
    Fuel,
    /// It ran past its wall-clock deadline.
    Deadline,
    /// It tried to grow its memory past the cap.
    Memory,
    /// It overflowed the WebAssembly stack.
    StackOverflow,
    /// It returned more than the output caps allow.
    OutputTooLarge,
    /// It returned `Err` from `evaluate`.
    PolicyError,
    /// It could not be loaded or instantiated.
    Load,
    /// Its decision broke the contract (e.g. a finding stricter than the verdict).
    InvalidDecision,
}

impl FailureKind {
    /// The kind's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::Fuel => "fuel",
            FailureKind::Deadline => "deadline",
            FailureKind::Memory => "memory",
            FailureKind::StackOverflow => "stack-overflow",
            FailureKind::OutputTooLarge => "output-too-large",
            FailureKind::PolicyError => "policy-error",
            FailureKind::Load => "load",
            FailureKind::InvalidDecision => "invalid-decision",
        }
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy that produced no decision: what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The kind of failure.
    pub kind: FailureKind,
    /// Details for a person.
    pub message: String,
}

/// What one policy did with one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum PolicyOutcome {
    /// It answered.
    Decided(Decision),
    /// It failed; the failure is contained to this policy.
    Failed(Failure),
    /// It does not answer this stage.
    Skipped,
}

/// How much of its budget one evaluation used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Usage {
    /// Fuel consumed.
    pub fuel: u64,
    /// Wall-clock time, in microseconds.
    pub micros: u64,
}

/// One exception in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExceptionReport {
    /// The exception.
    #[serde(flatten)]
    pub waiver: crate::config::waivers::Waiver,
    /// Whether it applied to this deployment.
    pub applied: bool,
    /// Why it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applied: Option<String>,
}

/// One policy's part in a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyReport {
    /// The policy's name in the configuration.
    pub name: String,
    /// `enforce` or `advisory`.
    pub mode: Mode,
    /// What a failure counts as.
    pub on_error: OnError,
    /// sha256 of the component, hex.
    pub sha256: String,
    /// What the policy did.
    pub outcome: PolicyOutcome,
    /// The verdict this policy contributes: its decision's, or for a failure
    /// the fail-closed / fail-open verdict; `None` when skipped.
    pub verdict: Option<Verdict>,
    /// Whether the verdict counted towards the overall decision (enforced
    /// and not skipped).
    pub counted: bool,
    /// The resources it used.
    pub usage: Usage,
    /// The bundle it came from; `None` for the configuration's own.
    pub bundle: Option<BundleOrigin>,
}

impl PolicyReport {
    /// `decided`, `failed` or `skipped`.
    pub fn status(&self) -> &'static str {
        match self.outcome {
            PolicyOutcome::Decided(_) => "decided",
            PolicyOutcome::Failed(_) => "failed",
            PolicyOutcome::Skipped => "skipped",
        }
    }
}

/// A finding with the policy that made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportedFinding {
    /// The policy's name.
    pub policy: String,
    /// Whether the policy is advisory (the finding did not count).
    pub advisory: bool,
    /// The finding.
    #[serde(flatten)]
    pub finding: shipgate_model::Finding,
}

/// Which deployment a report is about, or a watch rolls out: as collected
/// into the snapshot's `deployment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// The service.
    pub service: String,
    /// The target environment.
    pub environment: String,
    /// The version being deployed.
    pub version: String,
    /// The commit being deployed.
    pub commit: String,
}

impl Subject {
    /// The deployment of a collected snapshot.
    pub fn of(snapshot: &Snapshot) -> Subject {
        let d = &snapshot.deployment;
        Subject {
            service: d.service.clone(),
            environment: d.environment.clone(),
            version: d.version.clone(),
            commit: d.commit.clone(),
        }
    }
}

/// The aggregated answer to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The question.
    pub stage: Stage,
    /// The strictest enforced verdict; when nothing counted, `no-go` (`hold`
    /// in a canary) with a `shipgate.undecided` finding: never `go`.
    pub verdict: Verdict,
    /// The highest risk level any enforced policy gave.
    pub risk: Option<RiskLevel>,
    /// What is being deployed.
    pub subject: Subject,
    /// Every finding of every evaluated policy, enforced ones first.
    pub findings: Vec<ReportedFinding>,
    /// Requirements of enforced policies, without repeats.
    pub requirements: Vec<Requirement>,
    /// Every configured policy, in configuration order.
    pub policies: Vec<PolicyReport>,
    /// Sources the host could not read (copied from the snapshot).
    pub gaps: Vec<Gap>,
    /// The bundles the policies came from, each once, in policy order:
    /// name, version, digest and signers, so that a replay can fetch
    /// exactly what decided.
    pub bundles: Vec<BundleOrigin>,
    /// The configuration's signed exceptions: each applied to this
    /// deployment or not, and why not.
    pub exceptions: Vec<ExceptionReport>,
}

impl Report {
    /// The process exit code for this report's verdict: 0 go, 2 no-go,
    /// 3 rollback, 4 hold.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.verdict)
    }
}
