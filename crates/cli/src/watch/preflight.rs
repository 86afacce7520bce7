//! Looking before moving traffic: before the first traffic hook runs, the
//! first collection is put to the policies of the first phase, as an
//! interval at 0% of traffic would be, and the watch refuses to start when
//! they could not judge the rollout.
//!
//! It refuses when
//! - no enforced policy answers the first phase's stage (nothing would
//!   judge the rollout: every interval would hold on nobody's decision);
//! - an enforced policy failed (a trap, a deadline, an error);
//! - an enforced policy says data is missing ([`shipgate_model::says_data_missing`])
//!   other than, in a canary phase, the canary's side of a metric whose
//!   baseline has a value: with no traffic yet the canary may well have no
//!   data, but a metrics source that cannot be read, or a baseline without
//!   data, will not get better once traffic moves. A plan of a single phase
//!   at 100% asks the verify stage from its first interval, so its missing
//!   data (no health probe configured, an unread metric) refuses too;
//! - a watch that verifies after its last phase has a verify-stage policy
//!   that fails on the first collection (it would fail only after the whole
//!   rollout). Its missing data does not refuse — smoke reports and the new
//!   version's metrics may come only with the deploy — but each line is
//!   warned about before traffic moves.
//!
//! Nothing is logged: no interval was decided and no traffic moved.

use shipgate_model::{Rollout, RolloutStrategy, Snapshot, Stage, Verdict};

use shipgate_core::config::watch::Plan;
use shipgate_engine::policy_set::PolicySet;
use shipgate_engine::report::{PolicyOutcome, Report};

use super::event::VerifyPlan;

/// Why a watch did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not starting the rollout: the {stage}-stage policies cannot judge it yet, so no traffic \
     was moved\n{}", .reasons.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n")
)]
pub struct Refusal {
    /// The stage whose policies cannot judge.
    pub stage: Stage,
    /// One line per reason.
    pub reasons: Vec<String>,
}

/// Asks the first phase's policies about `first` (the watch's first
/// collection) at 0% of traffic, and the verify-stage policies too when
/// the watch verifies after its last phase; the report, or why the watch
/// must not start.
pub fn check(policies: &PolicySet, first: &Snapshot, plan: &Plan) -> Result<Report, Refusal> {
    let verify = super::verify_plan(policies, plan);
    if verify == VerifyPlan::EveryInterval {
        let report = policies.evaluate(Stage::Verify, first);
        let reasons = reasons(&report, first, Stage::Verify);
        return if reasons.is_empty() {
            Ok(report)
        } else {
            Err(Refusal {
                stage: Stage::Verify,
                reasons,
            })
        };
    }
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
    let reasons = reasons(&report, &snapshot, Stage::Canary);
    if !reasons.is_empty() {
        return Err(Refusal {
            stage: Stage::Canary,
            reasons,
        });
    }
    if verify == VerifyPlan::AfterLastPhase {
        let verify = policies.evaluate(Stage::Verify, first);
        let failed = failures(&verify);
        if !failed.is_empty() {
            return Err(Refusal {
                stage: Stage::Verify,
                reasons: failed,
            });
        }
        for line in missing(&verify, first, Stage::Verify) {
            tracing::warn!(
                "the verify step after the last phase lacks this now (it may come with the \
                 deploy; if not, the watch ends unverified): {line}"
            );
        }
    }
    Ok(report)
}

/// The enforced policies of `report` that failed, one line each.
fn failures(report: &Report) -> Vec<String> {
    report
        .policies
        .iter()
        .filter(|p| p.counted)
        .filter_map(|p| match &p.outcome {
            PolicyOutcome::Failed(failure) => Some(format!(
                "policy `{}` failed ({}): {}",
                p.name, failure.kind, failure.message
            )),
            _ => None,
        })
        .collect()
}

/// Why `report` (on `snapshot`, before any traffic, asked `stage`) cannot
/// start a watch.
fn reasons(report: &Report, snapshot: &Snapshot, stage: Stage) -> Vec<String> {
    let mut reasons = Vec::new();
    let deciding = report
        .policies
        .iter()
        .filter(|p| p.counted && matches!(p.outcome, PolicyOutcome::Decided(_)))
        .count();
    if deciding == 0 {
        reasons.push(format!(
            "no enforced policy answers the {stage} stage: nothing would judge the rollout \
             (configure one, e.g. `source = \"builtin:{stage}\"` with `stages = [\"{stage}\"]`)"
        ));
    }
    reasons.extend(failures(report));
    reasons.extend(missing(report, snapshot, stage));
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

/// The enforced findings of `report` that say data is missing, one line
/// each; in a canary phase not the canary's side of a metric whose baseline
/// has a value (the canary may have no data before it has traffic).
fn missing(report: &Report, snapshot: &Snapshot, stage: Stage) -> Vec<String> {
    let mut reasons = Vec::new();
    for f in report
        .findings
        .iter()
        .filter(|f| !f.advisory && f.finding.verdict != Verdict::Go)
    {
        let missing = shipgate_model::says_data_missing(&f.finding);
        // The canary's own side may lack data while it has no traffic; its
        // baseline must not.
        let only_the_canary = stage == Stage::Canary
            && f.finding
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
    reasons
}
