//! Counting intervals from `rollout.history`: failed, inconclusive and
//! data-less intervals against `max_failed_intervals`,
//! `max_inconclusive_intervals` and `max_intervals_without_data` (the crate
//! doc maps them to Argo Rollouts and Flagger). Only the history and this
//! interval are read, so a replay counts the same.

use shipgate_sdk::model::IntervalResult;
use shipgate_sdk::prelude::*;

use crate::{
    CRITERION_RULES, Judge, RULE_DATA_MISSING, RULE_FAILURE_LIMIT, RULE_INCONCLUSIVE_LIMIT,
    RULE_NO_DATA_LIMIT, TRIGGER_RULES, count,
};

fn has(interval: &IntervalResult, rule: &str) -> bool {
    interval.rules.iter().any(|r| r == rule)
}

/// A rollback trigger breached in `interval` (whether it rolled back or was
/// held below the limit).
pub(crate) fn failed(interval: &IntervalResult) -> bool {
    interval
        .rules
        .iter()
        .any(|r| TRIGGER_RULES.contains(&r.as_str()))
}

/// `interval` had data missing.
pub(crate) fn without_data(interval: &IntervalResult) -> bool {
    interval.data_missing || has(interval, RULE_DATA_MISSING)
}

/// `interval` had complete data and no breach, but a success criterion was
/// not met.
pub(crate) fn inconclusive(interval: &IntervalResult) -> bool {
    CRITERION_RULES.iter().any(|r| has(interval, r)) && !without_data(interval) && !failed(interval)
}

/// `(this one)` or `(this one and 2 before it)`.
fn this_and(before: usize) -> String {
    if before == 0 {
        "(this one)".to_owned()
    } else {
        format!("(this one and {before} before it)")
    }
}

impl<'a> Judge<'a> {
    fn history(&self) -> &'a [IntervalResult] {
        self.snapshot
            .rollout
            .as_ref()
            .map_or(&[], |r| r.history.as_slice())
    }

    /// A trigger breached now: count the failed intervals, this one
    /// included. At `max_failed_intervals` the triggers stay `rollback` and
    /// `canary.failure-limit` says so; below it they are held.
    pub(crate) fn failure_limit(&mut self) {
        if !self.breached {
            return;
        }
        let before = self.history().iter().filter(|i| failed(i)).count();
        let n = before + 1;
        let limit = self.config.max_failed_intervals as usize;
        let observed = count(n, "failed interval", "failed intervals");
        let expected = format!("< {limit}");
        if n >= limit {
            self.findings.push(
                Finding::rollback(
                    RULE_FAILURE_LIMIT,
                    format!(
                        "{observed} {}, reaching the limit of {limit}: roll back",
                        this_and(before)
                    ),
                )
                .evidence(observed, expected),
            );
            return;
        }
        let status = format!(
            "failed interval {n} of the {} allowed before a rollback",
            limit - 1
        );
        for f in &mut self.findings {
            if f.verdict == Verdict::Rollback && TRIGGER_RULES.contains(&f.rule.as_str()) {
                f.verdict = Verdict::Hold;
                f.message.push_str(&format!("; {status}: hold"));
            }
        }
        self.findings.push(
            Finding::hold(
                RULE_FAILURE_LIMIT,
                format!(
                    "{status} (max_failed_intervals = {limit}): hold and watch the next \
                     interval"
                ),
            )
            .evidence(observed, expected),
        );
    }

    /// Consecutive intervals without data: the trailing data-less entries of
    /// the history plus this interval. Only counted when data is missing
    /// now: an interval with data ends the streak.
    pub(crate) fn no_data_limit(&mut self) {
        if !self.missing_now {
            return;
        }
        let before = self
            .history()
            .iter()
            .rev()
            .take_while(|i| without_data(i))
            .count();
        let streak = before + 1;
        let limit = self.config.max_intervals_without_data as usize;
        let observed = format!(
            "{streak} consecutive {} without data",
            if streak == 1 { "interval" } else { "intervals" }
        );
        let expected = format!("< {limit}");
        self.findings.push(if streak >= limit {
            Finding::rollback(
                RULE_NO_DATA_LIMIT,
                format!(
                    "{observed} (this one and {before} before it), reaching the limit of \
                     {limit}: the canary cannot be judged"
                ),
            )
            .evidence(observed, expected)
        } else {
            Finding::pass(
                RULE_NO_DATA_LIMIT,
                format!("{observed}, below the limit of {limit}"),
            )
            .evidence(observed, expected)
        });
    }

    /// This interval is inconclusive (`now`): count the inconclusive
    /// intervals, this one included, against `max_inconclusive_intervals`:
    /// `rollback` at the limit, a `go` note with the count below it.
    pub(crate) fn inconclusive_limit(&mut self, now: bool) {
        let Some(limit) = self.config.max_inconclusive_intervals else {
            return;
        };
        if !now {
            return;
        }
        let before = self.history().iter().filter(|i| inconclusive(i)).count();
        let n = before + 1;
        let limit = limit as usize;
        let observed = count(n, "inconclusive interval", "inconclusive intervals");
        let expected = format!("< {limit}");
        self.findings.push(if n >= limit {
            Finding::rollback(
                RULE_INCONCLUSIVE_LIMIT,
                format!(
                    "the canary has not met its success criteria in {} {}, reaching the \
                     limit of {limit}: roll back",
                    count(n, "interval", "intervals"),
                    this_and(before)
                ),
            )
            .evidence(observed, expected)
        } else {
            Finding::pass(
                RULE_INCONCLUSIVE_LIMIT,
                format!("{observed}, below the limit of {limit}"),
            )
            .evidence(observed, expected)
        });
    }
}
