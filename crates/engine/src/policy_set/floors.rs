//! The floors an org layer sets (`[floors]` in its bundle): minimums the
//! whole decision respects, applied after the policies' verdicts are
//! aggregated. Each floor that raises a verdict says so in a finding of
//! the host ([`super::HOST_FINDINGS`]), naming the bundles that set it.

use shipgate_model::{Finding, ReviewState, Snapshot, Stage, Verdict};

use crate::config::layering::Floors;
use crate::report::{Report, ReportedFinding};

/// The rule of the missing-data floor's finding.
pub const MISSING_DATA_RULE: &str = "shipgate.floor.missing-data";
/// The rule of the approval floor's finding.
pub const APPROVAL_RULE: &str = "shipgate.floor.approval";

/// Raises `report` to `floors` for `snapshot` (the gate only: the floors
/// are about deciding to deploy).
pub fn apply(report: &mut Report, floors: &Floors, snapshot: &Snapshot) {
    if floors.is_empty() || report.stage != Stage::Gate {
        return;
    }
    let by = floors.set_by.join(", ");
    let mut raised = Vec::new();
    if let Some(floor) = floors.missing_data
        && !report.gaps.is_empty()
    {
        let sources: Vec<&str> = report.gaps.iter().map(|g| g.source.as_str()).collect();
        raised.push(Finding::new(
            MISSING_DATA_RULE,
            floor,
            format!(
                "data missing ({}): the floor of {by} makes such a decision at least `{floor}`",
                sources.join(", ")
            ),
        ));
    }
    let environment = &snapshot.deployment.environment;
    if floors.approval.iter().any(|e| e == environment) {
        match &snapshot.ci {
            None => raised.push(Finding::new(
                APPROVAL_RULE,
                Verdict::Hold,
                format!(
                    "reviews were not collected, and the floor of {by} needs an approving human review in `{environment}`"
                ),
            )),
            Some(ci) => {
                let humans = ci
                    .approvals
                    .iter()
                    .filter(|a| a.human && a.state == ReviewState::Approved)
                    .count();
                if humans == 0 {
                    raised.push(Finding::new(
                        APPROVAL_RULE,
                        Verdict::NoGo,
                        format!(
                            "no approving human review: the floor of {by} needs one in `{environment}`"
                        ),
                    ));
                }
            }
        }
    }
    for finding in raised.into_iter().rev() {
        report.verdict = report.verdict.max(finding.verdict);
        report.findings.insert(
            0,
            ReportedFinding {
                policy: super::HOST_FINDINGS.to_owned(),
                advisory: false,
                finding,
            },
        );
    }
}
