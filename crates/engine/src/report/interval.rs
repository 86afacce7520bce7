//! What a canary interval's report leaves in the rollout's history: the one
//! place an [`IntervalResult`] is made from a decision.
//!
//! Each policy that decided gets its own [`PolicyInterval`] (by its
//! configured name, advisory or not), so that a policy later counts only its
//! own results ([`IntervalResult::seen_by`]): an advisory policy's breaches
//! are recorded and shown, never counted by an enforced one.

use shipgate_model::{IntervalResult, PolicyInterval, Timestamp, Verdict, says_data_missing};

use super::Report;
use crate::config::Mode;

impl Report {
    /// The rollout-history entry of this interval, decided in `phase` and
    /// ended `at`.
    pub fn interval_result(&self, phase: u32, at: Timestamp) -> IntervalResult {
        let policies = self
            .policies
            .iter()
            .filter_map(|p| {
                let verdict = p.verdict?;
                let findings = self
                    .findings
                    .iter()
                    .filter(|f| f.policy == p.name)
                    .map(|f| &f.finding);
                Some(PolicyInterval::of(
                    &p.name,
                    p.mode == Mode::Advisory,
                    verdict,
                    findings,
                ))
            })
            .collect();
        IntervalResult {
            phase,
            at,
            verdict: self.verdict,
            data_missing: self.data_missing(),
            rules: Vec::new(),
            policies,
        }
    }

    /// Whether this interval was decided on missing data: an enforced policy
    /// said so in a finding that asks for more than `go`
    /// ([`says_data_missing`]).
    ///
    /// A metric the collector left empty that no enforced policy reads (the
    /// CPU of a pod without a CPU limit, say) does not make an interval
    /// data-less, nor does a gap of a source no enforced policy needs:
    /// counting those as missing data would roll back a healthy canary at
    /// the no-data limit.
    pub fn data_missing(&self) -> bool {
        self.findings.iter().any(|f| {
            !f.advisory && f.finding.verdict != Verdict::Go && says_data_missing(&f.finding)
        })
    }
}
