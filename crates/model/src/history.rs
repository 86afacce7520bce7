//! A rollout's history: what each policy found in each earlier interval,
//! and the view of it each policy is given.
//!
//! `shipgate watch` records every interval as an [`IntervalResult`]: the
//! interval's decision and, per policy (by its configured name), a
//! [`PolicyInterval`] with the rule ids of its findings that asked for more
//! than `go` and, for each metric a finding names, a [`MetricInterval`]
//! (failed, inconclusive, data missing).
//!
//! **A policy counts only its own results.** The host gives each policy the
//! history [as that policy found it](IntervalResult::seen_by): its own
//! verdict, missing-data flag and rule ids in the entry's top fields, and the
//! per-policy list empty. So an advisory policy's findings (a shadow canary
//! trying a stricter limit) are recorded and shown, never counted by an
//! enforced policy: the same rule id from two policies is two results.
//!
//! An entry written before per-policy results (no `policies`) is given to
//! every policy as it was written: its `rules` were every policy's, and are
//! counted as they were then.

use serde::{Deserialize, Serialize};

use crate::verdict::string_enum;
use crate::{Finding, Timestamp, Verdict};

/// The result of one earlier analysis interval of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct IntervalResult {
    /// The phase (index into the steps) it ran in.
    pub phase: u32,
    /// When it ended.
    pub at: Timestamp,
    /// What the enforced policies decided; in the view a policy is given,
    /// what that policy decided.
    pub verdict: Verdict,
    /// Whether an enforced policy decided on missing, stale or errored data;
    /// in the view a policy is given, whether that policy did.
    #[serde(default)]
    pub data_missing: bool,
    /// In the view a policy is given: its own findings of the interval that
    /// asked for more than `go`, as [`concern_entries`] records them. Empty
    /// in a recorded entry, except one written before per-policy results,
    /// where it holds every policy's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// What each policy that decided found, in configuration order. Empty
    /// in the view a policy is given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyInterval>,
}

/// What one policy found in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyInterval {
    /// The policy's name in the configuration.
    pub policy: String,
    /// Whether it was advisory: recorded and shown, never counted by another
    /// policy nor towards the interval's decision.
    #[serde(default)]
    pub advisory: bool,
    /// Its verdict (for a policy that failed, what its failure counted as).
    pub verdict: Verdict,
    /// Whether it said it could not decide for missing data
    /// ([`says_data_missing`]).
    #[serde(default)]
    pub data_missing: bool,
    /// Its findings that asked for more than `go` ([`concern_entries`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Per metric its findings named, what it found of that metric.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricInterval>,
}

/// What a policy found of one metric in one interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricInterval {
    /// The metric, as the findings name it (`latency_p95`).
    pub metric: String,
    /// The worst of what its findings say ([`MetricOutcome::of`]).
    pub outcome: MetricOutcome,
    /// The rule ids of those findings, sorted, without repeats.
    pub rules: Vec<String>,
}

string_enum! {
    /// What a finding that asked for more than `go` says of the metric it
    /// names, in Argo Rollouts' terms (`Failed`, `Inconclusive`, `Error`).
    MetricOutcome("metric outcome") {
        /// A limit was breached (also when the breach was tolerated and the
        /// finding asks only to `hold`).
        Failed = "failed",
        /// The data was complete, nothing breached, a success criterion was
        /// not met.
        Inconclusive = "inconclusive",
        /// The metric had no usable data.
        DataMissing = "data-missing",
    }
}

impl MetricOutcome {
    /// What `finding` says of its metric, by its rule id: missing data when
    /// it [says so](says_data_missing), inconclusive when its rule id ends in
    /// `inconclusive` (`canary.inconclusive`), otherwise failed.
    pub fn of(finding: &Finding) -> MetricOutcome {
        if says_data_missing(finding) {
            MetricOutcome::DataMissing
        } else if finding.rule.ends_with("inconclusive") {
            MetricOutcome::Inconclusive
        } else {
            MetricOutcome::Failed
        }
    }

    /// The worse of two outcomes for one metric: a breach that can be seen
    /// is a failure even when other data is missing, and missing data is
    /// worse than an unmet criterion (as Argo Rollouts ranks `Failed`,
    /// `Error` and `Inconclusive`).
    fn worse(self, other: MetricOutcome) -> MetricOutcome {
        let rank = |o: MetricOutcome| match o {
            MetricOutcome::Inconclusive => 0,
            MetricOutcome::DataMissing => 1,
            MetricOutcome::Failed => 2,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// What a `rules` policy's finding says when a rule could not be decided
/// for missing data (its `on_missing` verdict).
pub const RULES_MISSING_PREFIX: &str = "cannot decide, data missing";

/// Whether a finding says its policy could not decide for missing data: its
/// rule id is `data-missing` or ends in `.data-missing` (the `canary`
/// built-in's `canary.data-missing`, and its rules twin's), or it is a
/// `rules` policy's `on_missing` finding.
pub fn says_data_missing(finding: &Finding) -> bool {
    finding.rule == "data-missing"
        || finding.rule.ends_with(".data-missing")
        || finding.message.starts_with(RULES_MISSING_PREFIX)
}

/// The entry of [`IntervalResult::rules`] for a finding of `rule` that names
/// `metric`: `rule[metric]` (`canary.latency[latency_p99]`).
pub fn metric_rule(rule: &str, metric: &str) -> String {
    format!("{rule}[{metric}]")
}

/// What an interval records of one policy's `findings`: the rule of each
/// finding that asked for more than `go`, and [`metric_rule`] of it when it
/// names its metric; sorted, without repeats.
///
/// The one definition of what gets recorded: `shipgate watch` writes it, and
/// a policy that counts its own findings of this interval reads it the same
/// way.
pub fn concern_entries<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Vec<String> {
    let mut rules: Vec<String> = findings
        .into_iter()
        .filter(|f| f.verdict != Verdict::Go)
        .flat_map(|f| {
            let qualified = f.metric.as_deref().map(|m| metric_rule(&f.rule, m));
            std::iter::once(f.rule.clone()).chain(qualified)
        })
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

impl PolicyInterval {
    /// What `policy` found in an interval, from the `findings` of its
    /// decision and the `verdict` it contributed.
    pub fn of<'f>(
        policy: &str,
        advisory: bool,
        verdict: Verdict,
        findings: impl IntoIterator<Item = &'f Finding> + Clone,
    ) -> PolicyInterval {
        let concerns = || {
            findings
                .clone()
                .into_iter()
                .filter(|f| f.verdict != Verdict::Go)
        };
        let mut metrics: Vec<MetricInterval> = Vec::new();
        for f in concerns() {
            let Some(metric) = &f.metric else { continue };
            let outcome = MetricOutcome::of(f);
            match metrics.iter_mut().find(|m| &m.metric == metric) {
                Some(m) => {
                    m.outcome = m.outcome.worse(outcome);
                    m.rules.push(f.rule.clone());
                }
                None => metrics.push(MetricInterval {
                    metric: metric.clone(),
                    outcome,
                    rules: vec![f.rule.clone()],
                }),
            }
        }
        for m in &mut metrics {
            m.rules.sort();
            m.rules.dedup();
        }
        metrics.sort_by(|a, b| a.metric.cmp(&b.metric));
        PolicyInterval {
            policy: policy.to_owned(),
            advisory,
            verdict,
            data_missing: concerns().any(says_data_missing),
            rules: concern_entries(findings),
            metrics,
        }
    }
}

impl IntervalResult {
    /// The entry as `policy` is given it: its own verdict, missing-data flag
    /// and rule ids on top and no per-policy list. A policy with no result
    /// in the entry (not configured then, skipped) found nothing in it; an
    /// entry from before per-policy results is given as it was written.
    pub fn seen_by(&self, policy: &str) -> IntervalResult {
        if self.policies.is_empty() {
            return self.clone();
        }
        let own = self.policies.iter().find(|p| p.policy == policy);
        IntervalResult {
            phase: self.phase,
            at: self.at,
            verdict: own.map_or(self.verdict, |p| p.verdict),
            data_missing: own.is_some_and(|p| p.data_missing),
            rules: own.map(|p| p.rules.clone()).unwrap_or_default(),
            policies: Vec::new(),
        }
    }

    /// Whether this entry records per-policy results (else it was written
    /// before them, and is given to every policy as it is).
    pub fn is_per_policy(&self) -> bool {
        !self.policies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, verdict: Verdict, metric: Option<&str>) -> Finding {
        Finding {
            metric: metric.map(str::to_owned),
            ..Finding::new(rule, verdict, "m")
        }
    }

    fn entry(policies: Vec<PolicyInterval>) -> IntervalResult {
        IntervalResult {
            phase: 0,
            at: Timestamp(0),
            verdict: Verdict::Hold,
            data_missing: false,
            rules: Vec::new(),
            policies,
        }
    }

    #[test]
    fn a_policy_sees_only_its_own_results() {
        let shadow = PolicyInterval::of(
            "canary-shadow",
            true,
            Verdict::Rollback,
            &[finding(
                "canary.latency",
                Verdict::Rollback,
                Some("latency_p95"),
            )],
        );
        let canary = PolicyInterval::of(
            "canary",
            false,
            Verdict::Go,
            &[finding("canary.latency", Verdict::Go, Some("latency_p95"))],
        );
        let e = entry(vec![canary, shadow]);
        let seen = e.seen_by("canary");
        assert_eq!(seen.verdict, Verdict::Go);
        assert!(seen.rules.is_empty() && seen.policies.is_empty());
        let seen = e.seen_by("canary-shadow");
        assert_eq!(seen.verdict, Verdict::Rollback);
        assert_eq!(
            seen.rules,
            ["canary.latency", "canary.latency[latency_p95]"]
        );
        let absent = e.seen_by("error-ratio");
        assert!(absent.rules.is_empty() && !absent.data_missing);
    }

    #[test]
    fn an_entry_from_before_per_policy_results_is_given_as_written() {
        let mut old = entry(Vec::new());
        old.rules = vec!["canary.latency".into()];
        old.data_missing = true;
        assert_eq!(old.seen_by("anyone"), old);
        assert!(!old.is_per_policy());
    }

    #[test]
    fn each_metric_gets_the_worst_outcome_of_its_findings() {
        let p = PolicyInterval::of(
            "canary",
            false,
            Verdict::Rollback,
            &[
                finding("canary.inconclusive", Verdict::Hold, Some("error_rate")),
                finding("canary.error-rate", Verdict::Hold, Some("error_rate")),
                finding("canary.data-missing", Verdict::Hold, Some("latency_p95")),
                finding("canary.inconclusive", Verdict::Hold, Some("latency_p95")),
                finding("canary.count", Verdict::Go, Some("cpu")),
                finding("canary.failure-limit", Verdict::Rollback, None),
            ],
        );
        let outcomes: Vec<(&str, MetricOutcome)> = p
            .metrics
            .iter()
            .map(|m| (m.metric.as_str(), m.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("error_rate", MetricOutcome::Failed),
                ("latency_p95", MetricOutcome::DataMissing)
            ]
        );
        assert_eq!(
            p.metrics[0].rules,
            ["canary.error-rate", "canary.inconclusive"]
        );
        assert!(p.data_missing);
        assert!(p.rules.contains(&"canary.failure-limit".to_owned()));
    }
}
