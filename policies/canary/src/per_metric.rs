//! Per-metric counting, as Argo Rollouts' analysis counts (its
//! `analysis/analysis.go`): each metric's measurements are counted on their
//! own against `failure_limit`, `inconclusive_limit`,
//! `consecutive_error_limit` and `count`, the Argo keys of the config.
//!
//! A *measure* is what Argo would run as one metric of an
//! `AnalysisTemplate`: the error-rate metric, each latency metric, CPU and
//! memory when their ceilings are set, the alerts and the error signatures.
//! Each interval gives each measure one measurement, in one of Argo's
//! phases, read from the interval's `rules` (see [`Measure::phase`]): a
//! trigger of the measure is `Failed`, its missing data `Error` (for the
//! alerts: `canary.data-missing[alerts]`, alerts that could not be read,
//! see `source_gap.rs`), its unmet
//! success criterion `Inconclusive`, anything else `Successful`. A metric's
//! findings name it, so the host records `rule[metric]` next to `rule`
//! ([`metric_rule`]); a history written before that (a plain rule without
//! any qualified entry) counts against every measure the rule applies to.
//!
//! Then, per measure, as Argo does: failed and inconclusive measurements
//! are counted over the whole rollout and compared with `>`; measurements
//! without data are counted while consecutive (any measurement with data
//! ends the streak) and do not count towards `count`. A measure above a
//! limit is `Failed`, `Error` (both `rollback`) or `Inconclusive` (`hold`: Argo
//! pauses the rollout for a person); once every measure has `count`
//! measurements within the limits the analysis is `Successful` (`go`, a
//! failure tolerated by `failure_limit` included in the interval it
//! completes); before that it is `Running` (`hold`). Argo's run ends there;
//! the canary keeps watching, and a tolerated failure or inconclusive
//! measurement after it is `hold`, so that it is recorded and counted
//! (never a `go` on a breach). Without `count` the analysis runs for the whole
//! rollout, and an interval whose measurements all succeeded is `go`.

use std::iter;

use shipgate_sdk::model::{IntervalResult, concern_entries, metric_rule};
use shipgate_sdk::prelude::*;

use crate::{
    Config, Judge, RULE_ALERTS, RULE_COUNT, RULE_CPU, RULE_DATA_MISSING, RULE_ERROR_RATE,
    RULE_ERROR_RATE_INCREASE, RULE_FAILURE_LIMIT, RULE_INCONCLUSIVE, RULE_INCONCLUSIVE_LIMIT,
    RULE_LATENCY, RULE_MEMORY, RULE_NEW_CRITICAL_ERRORS, RULE_NEW_ERRORS, RULE_NO_DATA_LIMIT,
    RULE_OTHER_ALERTS, RULE_SUCCESS, TRIGGER_RULES, count,
};

/// Argo Rollouts' default `failureLimit`.
pub const ARGO_FAILURE_LIMIT: u32 = 0;
/// Argo Rollouts' default `inconclusiveLimit`.
pub const ARGO_INCONCLUSIVE_LIMIT: u32 = 0;
/// Argo Rollouts' default `consecutiveErrorLimit`
/// (`DefaultConsecutiveErrorLimit`).
pub const ARGO_CONSECUTIVE_ERROR_LIMIT: u32 = 4;

/// The name the alerts are counted under.
pub const ALERTS: &str = "alerts";
/// The name the error signatures are counted under.
pub const ERROR_SIGNATURES: &str = "error_signatures";

/// The phase of one measurement, or of a measure's analysis, as Argo
/// Rollouts names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The measurement met its condition.
    Successful,
    /// The measurement breached a rollback trigger.
    Failed,
    /// Complete data, no breach, a success criterion unmet.
    Inconclusive,
    /// No data.
    Error,
}

/// One thing counted on its own (an Argo metric).
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// The metric's name, or [`ALERTS`] / [`ERROR_SIGNATURES`].
    pub name: String,
    /// Whether its findings name it (a metric of the snapshot).
    qualified: bool,
    /// The rules that fail it.
    triggers: &'static [&'static str],
    /// The rules that make it inconclusive.
    criteria: &'static [&'static str],
}

/// The measures of `config`, in the order the policy judges them.
pub fn measures(config: &Config) -> Vec<Measure> {
    let metric = |name: &str, triggers, criteria| Measure {
        name: name.to_owned(),
        qualified: true,
        triggers,
        criteria,
    };
    let mut out = vec![metric(
        &config.error_rate_metric,
        &[RULE_ERROR_RATE, RULE_ERROR_RATE_INCREASE],
        &[RULE_INCONCLUSIVE],
    )];
    for name in &config.latency_metrics {
        out.push(metric(name, &[RULE_LATENCY], &[RULE_INCONCLUSIVE]));
    }
    if config.max_cpu.is_some() {
        out.push(metric(&config.cpu_metric, &[RULE_CPU], &[]));
    }
    if config.max_memory.is_some() {
        out.push(metric(&config.memory_metric, &[RULE_MEMORY], &[]));
    }
    if config.rollback_on_alerts || config.success_no_alerts {
        out.push(Measure {
            name: ALERTS.into(),
            qualified: false,
            triggers: &[RULE_ALERTS],
            criteria: &[RULE_OTHER_ALERTS],
        });
    }
    if config.rollback_on_new_critical_errors || config.success_no_new_errors {
        out.push(Measure {
            name: ERROR_SIGNATURES.into(),
            qualified: false,
            triggers: &[RULE_NEW_CRITICAL_ERRORS],
            criteria: &[RULE_NEW_ERRORS],
        });
    }
    // One measure per name: `check_config` rejects a metric in two roles
    // (`roles`), so no measure's triggers hide behind another's.
    out
}

impl Measure {
    /// Whether `rules` (an interval's) hold `rule` for this measure: the
    /// qualified entry, or the plain rule when no entry of that rule is
    /// qualified (a history from before qualified entries).
    fn has(&self, rules: &[String], rule: &str) -> bool {
        if !self.qualified {
            return rules.iter().any(|r| r == rule);
        }
        let key = metric_rule(rule, &self.name);
        let prefix = format!("{rule}[");
        rules.contains(&key)
            || (rules.iter().any(|r| r == rule) && !rules.iter().any(|r| r.starts_with(&prefix)))
    }

    /// Whether `rules` say this measure had no data: its own
    /// `canary.data-missing[name]` (the alerts' when they could not be
    /// read), or for a metric the plain rule of an older history.
    fn missing(&self, rules: &[String]) -> bool {
        if self.qualified {
            self.has(rules, RULE_DATA_MISSING)
        } else {
            rules.contains(&metric_rule(RULE_DATA_MISSING, &self.name))
        }
    }

    /// This measure's measurement in an interval with these `rules`. A
    /// breach we can see is a failure even when other data is missing.
    pub fn phase(&self, rules: &[String]) -> Phase {
        if self.triggers.iter().any(|t| self.has(rules, t)) {
            Phase::Failed
        } else if self.missing(rules) {
            Phase::Error
        } else if self.criteria.iter().any(|c| self.has(rules, c)) {
            Phase::Inconclusive
        } else {
            Phase::Successful
        }
    }

    /// Whether a finding is about this measure.
    fn owns(&self, f: &Finding) -> bool {
        if self.qualified {
            f.metric.as_deref() == Some(self.name.as_str())
        } else {
            self.triggers.contains(&f.rule.as_str()) || self.criteria.contains(&f.rule.as_str())
        }
    }
}

/// The limits of per-metric counting, Argo's defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `failure_limit`.
    pub failure: u32,
    /// `inconclusive_limit`.
    pub inconclusive: u32,
    /// `consecutive_error_limit`.
    pub consecutive_error: u32,
    /// `count`.
    pub count: Option<u32>,
}

impl Limits {
    /// The limits of `config`.
    pub fn of(config: &Config) -> Self {
        Limits {
            failure: config.failure_limit.unwrap_or(ARGO_FAILURE_LIMIT),
            inconclusive: config.inconclusive_limit.unwrap_or(ARGO_INCONCLUSIVE_LIMIT),
            consecutive_error: config
                .consecutive_error_limit
                .unwrap_or(ARGO_CONSECUTIVE_ERROR_LIMIT),
            count: config.count,
        }
    }
}

/// One measure's counters (Argo's `MetricResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Failed measurements.
    pub failed: u32,
    /// Inconclusive measurements.
    pub inconclusive: u32,
    /// Measurements without data at the end, in a row.
    pub consecutive_error: u32,
    /// Measurements with data (Argo's `Count`).
    pub count: u32,
}

impl Tally {
    /// Counts `phases`, oldest first, as Argo's `runMeasurements` does.
    pub fn of(phases: impl IntoIterator<Item = Phase>) -> Self {
        let mut t = Tally::default();
        for phase in phases {
            match phase {
                Phase::Successful => t.count += 1,
                Phase::Failed => {
                    t.failed += 1;
                    t.count += 1;
                }
                Phase::Inconclusive => {
                    t.inconclusive += 1;
                    t.count += 1;
                }
                Phase::Error => t.consecutive_error += 1,
            }
            if phase != Phase::Error {
                t.consecutive_error = 0;
            }
        }
        t
    }

    /// The measure's analysis: `Some(Failed | Error | Inconclusive)` above
    /// a limit (a failure first: a breach is never hidden behind an
    /// inconclusive count), `Some(Successful)` when `count` is reached
    /// within the limits, `None` while it runs.
    pub fn status(&self, limits: &Limits) -> Option<Phase> {
        if self.failed > limits.failure {
            Some(Phase::Failed)
        } else if self.consecutive_error > limits.consecutive_error {
            Some(Phase::Error)
        } else if self.inconclusive > limits.inconclusive {
            Some(Phase::Inconclusive)
        } else if limits.count.is_some_and(|n| self.count >= n) {
            Some(Phase::Successful)
        } else {
            None
        }
    }
}

/// How the whole analysis stands: the worst measure, as Argo's
/// `assessRunStatus` (a failed, errored or inconclusive metric ends the run).
pub fn run_status(statuses: &[Option<Phase>]) -> Option<Phase> {
    let any = |p: Phase| statuses.contains(&Some(p));
    if any(Phase::Failed) {
        Some(Phase::Failed)
    } else if any(Phase::Error) {
        Some(Phase::Error)
    } else if any(Phase::Inconclusive) {
        Some(Phase::Inconclusive)
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == Some(Phase::Successful)) {
        Some(Phase::Successful)
    } else {
        None
    }
}

/// One measure as this interval finds it.
struct Row {
    measure: Measure,
    /// Its counters, this interval included.
    tally: Tally,
    /// Its measurement in this interval.
    now: Phase,
    /// Its analysis with this interval counted ([`Tally::status`]).
    status: Option<Phase>,
    /// Its analysis on the history alone.
    before: Option<Phase>,
}

/// `the error_rate metric` / `the alerts`.
fn what(m: &Measure) -> String {
    if m.qualified {
        format!("metric `{}`", m.name)
    } else {
        format!("the {}", m.name.replace('_', " "))
    }
}

impl<'a> Judge<'a> {
    /// Per-metric counting: replaces the per-interval limits and the
    /// success finding when an Argo key is set.
    pub(crate) fn per_metric(&mut self) {
        let config = self.config;
        let limits = Limits::of(config);
        let history: &[IntervalResult] = self
            .snapshot
            .rollout
            .as_ref()
            .map_or(&[], |r| r.history.as_slice());
        let now = concern_entries(self.findings.iter().chain(self.unmet.iter()));
        let rows: Vec<Row> = measures(config)
            .into_iter()
            .map(|measure| {
                let before: Vec<Phase> = history.iter().map(|i| measure.phase(&i.rules)).collect();
                let now = measure.phase(&now);
                let tally = Tally::of(before.iter().copied().chain(iter::once(now)));
                Row {
                    status: tally.status(&limits),
                    before: Tally::of(before).status(&limits),
                    measure,
                    tally,
                    now,
                }
            })
            .collect();
        let statuses: Vec<Option<Phase>> = rows.iter().map(|r| r.status).collect();
        let run = run_status(&statuses);
        let successful = run == Some(Phase::Successful) && !self.missing_now;
        // Whether the analysis had already completed successfully before
        // this interval. Argo's run ends there; the canary keeps watching,
        // so a breach after it must be recorded (`hold`) and counted, never
        // waved through as `go`.
        let befores: Vec<Option<Phase>> = rows.iter().map(|r| r.before).collect();
        let completed = run_status(&befores) == Some(Phase::Successful);

        let mut extra = Vec::new();
        for row in &rows {
            let (m, t, status) = (&row.measure, &row.tally, &row.status);
            let metric = |f: Finding| {
                if m.qualified { f.metric(&m.name) } else { f }
            };
            match status {
                Some(Phase::Failed) => extra.push(metric(
                    Finding::rollback(
                        RULE_FAILURE_LIMIT,
                        format!(
                            "{} failed {}, above failure_limit {}: the analysis failed",
                            what(m),
                            count(t.failed as usize, "time", "times"),
                            limits.failure
                        ),
                    )
                    .evidence(
                        count(
                            t.failed as usize,
                            "failed measurement",
                            "failed measurements",
                        ),
                        format!("<= {}", limits.failure),
                    ),
                )),
                Some(Phase::Error) => extra.push(metric(
                    Finding::rollback(
                        RULE_NO_DATA_LIMIT,
                        format!(
                            "{} has had no data in {} in a row, above consecutive_error_limit \
                             {}: the analysis errored",
                            what(m),
                            count(t.consecutive_error as usize, "measurement", "measurements"),
                            limits.consecutive_error
                        ),
                    )
                    .evidence(
                        format!("{} consecutive without data", t.consecutive_error),
                        format!("<= {}", limits.consecutive_error),
                    ),
                )),
                Some(Phase::Inconclusive) => extra.push(metric(
                    Finding::hold(
                        RULE_INCONCLUSIVE_LIMIT,
                        format!(
                            "{} was inconclusive {}, above inconclusive_limit {}: the \
                             analysis is inconclusive, a person decides (Argo Rollouts \
                             pauses the rollout)",
                            what(m),
                            count(t.inconclusive as usize, "time", "times"),
                            limits.inconclusive
                        ),
                    )
                    .evidence(
                        count(
                            t.inconclusive as usize,
                            "inconclusive measurement",
                            "inconclusive measurements",
                        ),
                        format!("<= {}", limits.inconclusive),
                    ),
                )),
                _ => {}
            }
            if row.now == Phase::Error && *status != Some(Phase::Error) {
                extra.push(metric(
                    Finding::pass(
                        RULE_NO_DATA_LIMIT,
                        format!(
                            "{} has had no data in {} in a row, within \
                             consecutive_error_limit {}",
                            what(m),
                            count(t.consecutive_error as usize, "measurement", "measurements"),
                            limits.consecutive_error
                        ),
                    )
                    .evidence(
                        format!("{} consecutive without data", t.consecutive_error),
                        format!("<= {}", limits.consecutive_error),
                    ),
                ));
            }
        }

        // A measurement tolerated by its limit: `hold` while the analysis
        // runs, `go` in the interval it completes successfully (as Argo
        // does), `hold` again after that: the breach is recorded and counts.
        let tolerated = |f: &mut Finding, note: String| {
            if successful && !completed {
                f.verdict = Verdict::Go;
                f.message
                    .push_str(&format!("; {note}, and the analysis reached its count: go"));
            } else if completed {
                f.verdict = Verdict::Hold;
                f.message.push_str(&format!(
                    "; {note}, but the analysis had already reached its count: a measurement \
                     after it still counts against the limit: hold"
                ));
            } else {
                f.verdict = Verdict::Hold;
                f.message.push_str(&format!("; {note}: hold"));
            }
        };
        for f in &mut self.findings {
            if f.verdict != Verdict::Rollback || !TRIGGER_RULES.contains(&f.rule.as_str()) {
                continue;
            }
            let Some(Row {
                measure: m,
                tally: t,
                status,
                ..
            }) = rows.iter().find(|r| r.measure.owns(f))
            else {
                continue;
            };
            if *status != Some(Phase::Failed) {
                tolerated(
                    f,
                    format!(
                        "failure {} of {} tolerated by failure_limit for {}",
                        t.failed,
                        limits.failure,
                        what(m)
                    ),
                );
            }
        }
        let mut unmet = std::mem::take(&mut self.unmet);
        for f in &mut unmet {
            let Some(Row {
                measure: m,
                tally: t,
                status,
                ..
            }) = rows.iter().find(|r| r.measure.owns(f))
            else {
                continue;
            };
            if *status != Some(Phase::Inconclusive) {
                tolerated(
                    f,
                    format!(
                        "inconclusive measurement {} of {} tolerated by inconclusive_limit for {}",
                        t.inconclusive,
                        limits.inconclusive,
                        what(m)
                    ),
                );
            }
        }
        self.findings.append(&mut unmet);
        self.findings.append(&mut extra);

        if let Some(n) = limits.count {
            if successful {
                let after = if completed {
                    "; measurements after the count still count against the limits"
                } else {
                    ""
                };
                self.findings.push(Finding::pass(
                    RULE_COUNT,
                    format!(
                        "every measure has {} within its limits: the analysis is \
                         successful, promote{after}",
                        count(n as usize, "measurement", "measurements")
                    ),
                ));
            } else if run.is_none() {
                let fewest = rows.iter().min_by_key(|r| r.tally.count);
                let (name, done) =
                    fewest.map_or((String::new(), 0), |r| (what(&r.measure), r.tally.count));
                self.findings.push(
                    Finding::hold(
                        RULE_COUNT,
                        format!(
                            "the analysis is running: {name} has {done} of {n} measurements \
                             (those without data do not count)"
                        ),
                    )
                    .evidence(format!("{done} measurements"), format!(">= {n}")),
                );
            }
        }

        if self.findings.iter().all(|f| f.verdict == Verdict::Go) {
            let met = std::mem::take(&mut self.met);
            self.findings.push(Finding::pass(
                RULE_SUCCESS,
                format!("success criteria met, promote: {}", met.join("; ")),
            ));
        }
    }
}
