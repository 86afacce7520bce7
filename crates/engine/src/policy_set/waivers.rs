//! Signed exceptions applied to one decision: a verified exception
//! ([`Waiver`]) that applies to the deployment (its scope, and valid at the
//! snapshot's time) makes the rule it names — or the whole policy — count
//! as advisory. Every exception is reported, applied or not and why, with
//! its digest.

use shipgate_model::{Snapshot, Verdict};

use crate::config::waivers::Waiver;
use crate::report::{ExceptionReport, PolicyOutcome, PolicyReport, Report};

/// Which of `waivers` apply to `snapshot`'s deployment.
pub fn judge(waivers: &[Waiver], snapshot: &Snapshot) -> Vec<ExceptionReport> {
    let d = &snapshot.deployment;
    waivers
        .iter()
        .map(|w| {
            let why = w
                .applies_to(&d.service, &d.environment, d.requested_at)
                .err();
            ExceptionReport {
                waiver: w.clone(),
                applied: why.is_none(),
                not_applied: why,
            }
        })
        .collect()
}

/// Loosens `policies` by the applied exceptions, before they are
/// aggregated: a whole-policy exception stops the policy's verdict from
/// counting; a rule exception leaves the policy's verdict as the strictest
/// of its other findings.
pub fn loosen(policies: &mut [PolicyReport], exceptions: &[ExceptionReport]) {
    for p in policies.iter_mut() {
        let applied: Vec<&Waiver> = exceptions
            .iter()
            .filter(|e| e.applied && e.waiver.policy == p.name)
            .map(|e| &e.waiver)
            .collect();
        if applied.is_empty() {
            continue;
        }
        if applied.iter().any(|w| w.rule.is_none()) {
            p.counted = false;
            continue;
        }
        if let PolicyOutcome::Decided(d) = &p.outcome
            && p.verdict.is_some()
        {
            let rest = d
                .findings
                .iter()
                .filter(|f| !applied.iter().any(|w| w.covers(&p.name, Some(&f.rule))))
                .map(|f| f.verdict)
                .max()
                .unwrap_or(Verdict::Go);
            p.verdict = Some(rest);
        }
    }
}

/// Marks the findings the applied exceptions cover as advisory (they are
/// shown, and do not count).
pub fn mark(report: &mut Report, exceptions: &[ExceptionReport]) {
    for f in &mut report.findings {
        if exceptions
            .iter()
            .any(|e| e.applied && e.waiver.covers(&f.policy, Some(&f.finding.rule)))
        {
            f.advisory = true;
        }
    }
}
