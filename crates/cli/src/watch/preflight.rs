//! Looking before moving traffic: before the first traffic hook runs, the
//! first collection is put to the canary-stage policies, as an interval at
//! 0% of traffic would be, and the watch refuses to start when they could
//! not judge the rollout.
//!
//! It refuses when
//! - no enforced policy answers the canary stage (nothing would judge the
//!   rollout: every interval would hold on nobody's decision);
//! - an enforced policy failed (a trap, a deadline, an error);
//! - an enforced policy says data is missing ([`shipgate_model::says_data_missing`])
//!   other than the canary's side of a metric whose baseline has a value:
//!   with no traffic yet the canary may well have no data, but a metrics
//!   source that cannot be read, or a baseline without data, will not get
//!   better once traffic moves.
//!
//! Nothing is logged: no interval was decided and no traffic moved.

use shipgate_model::{Rollout, RolloutStrategy, Snapshot, Stage, Verdict};

use shipgate_core::config::watch::Plan;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::report::{PolicyOutcome, Report};

/// Why a watch did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not starting the rollout: the canary-stage policies cannot judge it yet, so no traffic \
     was moved\n{}", .reasons.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n")
)]
pub struct Refusal {
    /// One line per reason.
    pub reasons: Vec<String>,
}

/// Asks the canary-stage policies about `first` (the watch's first
/// collection) at 0% of traffic; the report, or why the watch must not
/// start.
pub fn check(policies: &PolicySet, first: &Snapshot, plan: &Plan) -> Result<Report, Refusal> {
    let mut snapshot = first.clone();
    snapshot.rollout = Some(Rollout {
        strategy: RolloutStrategy::Canary,
        phase: 0,
        traffic_percent: 0,
        seconds_in_phase: 0,
        steps: plan.steps(),
        history: Vec::new(),
    });
    let report = policies.evaluate(Stage::Canary, &snapshot);
    let reasons = reasons(&report, &snapshot);
    if reasons.is_empty() {
        Ok(report)
    } else {
        Err(Refusal { reasons })
    }
}

/// Why `report` (on `snapshot`, before any traffic) cannot start a watch.
fn reasons(report: &Report, snapshot: &Snapshot) -> Vec<String> {
    let mut reasons = Vec::new();
    let deciding = report
        .policies
        .iter()
        .filter(|p| p.counted && matches!(p.outcome, PolicyOutcome::Decided(_)))
        .count();
    if deciding == 0 {
        reasons.push(
            "no enforced policy answers the canary stage: nothing would judge the rollout \
             (configure one, e.g. `source = \"builtin:canary\"` with `stages = [\"canary\"]`)"
                .to_owned(),
        );
    }
    for p in report.policies.iter().filter(|p| p.counted) {
        if let PolicyOutcome::Failed(failure) = &p.outcome {
            reasons.push(format!(
                "policy `{}` failed ({}): {}",
                p.name, failure.kind, failure.message
            ));
        }
    }
    for f in report
        .findings
        .iter()
        .filter(|f| !f.advisory && f.finding.verdict != Verdict::Go)
    {
        let missing = shipgate_model::says_data_missing(&f.finding);
        // The canary's own side may lack data while it has no traffic; its
        // baseline must not.
        let only_the_canary = f
            .finding
            .metric
            .as_deref()
            .and_then(|name| snapshot.metrics.iter().find(|m| m.name == name))
            .is_some_and(|m| m.baseline.value().is_some());
        if missing && !only_the_canary {
            reasons.push(format!(
                "{}: {}: {}",
                f.policy, f.finding.rule, f.finding.message
            ));
        }
    }
    if !reasons.is_empty() {
        for gap in &snapshot.gaps {
            reasons.push(format!(
                "source `{}` could not be read: {}",
                gap.source, gap.reason
            ));
        }
    }
    reasons
}
