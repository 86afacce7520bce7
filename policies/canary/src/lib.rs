//! Shipgate built-in policy `canary`: rollback triggers and success criteria
//! during a progressive rollout.
//!
//! The numbers come from the playbooks in `shared/seeds/`:
//!
//! - 001 (hot-fix canary), the defaults. Success: error rate ≤ baseline and
//!   response time within 10% of baseline. Roll back on an error rate above
//!   2%, response time above 2x baseline, or new critical errors.
//! - 003 (alerting thresholds), opt-in through the config: error rate more
//!   than 5% up (`max_error_rate_increase = 0.05`), p95 above 2x baseline,
//!   CPU above 80% (`max_cpu = 0.80`), memory above 85%
//!   (`max_memory = 0.85`); immediate rollback at an error rate above 10%
//!   (`max_error_rate = 0.10`) or a performance degradation above 50%
//!   (`max_latency_ratio = 1.5`).
//! - 000 (rollback decision tree): critical errors in the logs and API 500s
//!   mean roll back immediately (new critical error signatures, critical
//!   alerts).
//!
//! Every interval ends in one of three answers: `rollback` when any trigger
//! fires (checked even when other data is missing: a breach we can see is
//! still a breach), `go` (promote) when every success criterion is met on
//! complete data, and `hold` otherwise, saying which criterion is not met or
//! which data is missing. Missing data is never `go`, and after
//! `max_intervals_without_data` consecutive intervals without data it is a
//! `rollback`.
//!
//! # Counting intervals
//!
//! `shipgate watch` appends every interval's result to
//! `rollout.history`, with the rule ids that asked for more than `go`
//! (`IntervalResult::rules`). The policy counts from that history alone, so
//! replaying any logged interval gives the same decision. Counts span every
//! phase of the rollout.
//!
//! - A *failed* interval is one where a rollback trigger breached (a rule of
//!   [`TRIGGER_RULES`] in its `rules`). This interval plus the failed ones
//!   in the history are compared with `max_failed_intervals` (default 1:
//!   the playbooks' "roll back the moment a trigger fires"). Below the limit
//!   the trigger findings are downgraded to `hold` and
//!   [`RULE_FAILURE_LIMIT`] says which failed interval this is; at the limit
//!   they stay `rollback`. A breach is never `go`.
//! - An *inconclusive* interval has complete data and no breach, but a
//!   success criterion unmet (`canary.inconclusive` in its `rules`, neither
//!   `canary.data-missing` nor `data_missing`). This one plus the history's
//!   are compared with `max_inconclusive_intervals` (default 10; `false`
//!   turns it off): at the limit [`RULE_INCONCLUSIVE_LIMIT`] rolls back.
//! - An interval *without data* has `data_missing` set or
//!   `canary.data-missing` in its `rules`. The *consecutive* ones at the end
//!   of the history plus this one are compared with
//!   `max_intervals_without_data` (default 3).
//!
//! | here | Argo Rollouts (`AnalysisTemplate` metric) | Flagger (`analysis`) |
//! |---|---|---|
//! | `max_failed_intervals = N` | `failureLimit: N - 1` (rollback when failures exceed it) | `threshold: N` (failed checks before rollback) |
//! | `max_inconclusive_intervals = N` | `inconclusiveLimit: N - 1` | — |
//! | `max_intervals_without_data = N` | `consecutiveErrorLimit: N - 1` | — (Flagger counts a query error as a failed check) |
//!
//! Argo's limits are the most *tolerated* (`failureLimit: 0` rolls back on
//! the first failure), this policy's are the count that *acts*
//! (`max_failed_intervals = 1` rolls back on the first): `failureLimit: N`
//! is `max_failed_intervals = N + 1`. Argo pauses a rollout whose analysis
//! is inconclusive for a person to decide; here the inconclusive limit rolls
//! back, as the playbooks' "If in doubt, rollback" (001:348) says.
//!
//! Setting any of Argo Rollouts' own keys (`failure_limit`,
//! `inconclusive_limit`, `consecutive_error_limit`, `count`) counts per
//! metric instead, as Argo does: see [`per_metric`]. The two families of
//! limits do not mix.
//!
//! # Series (Kayenta's judge)
//!
//! When a metric's baseline and canary are both series of samples (at least
//! `series_min_samples` each) and `series_test` is on, its success
//! criterion is judged with the Mann–Whitney U test instead of the two
//! means: it is not met when the canary is significantly higher
//! (`p < series_alpha`) *and* the ratio of the medians is above the success
//! ratio, so a significant but tiny difference does not block a promotion
//! and a large but noisy one is not called a regression. Rollback triggers
//! stay on the point values (the mean of the samples).

mod limits;
pub mod per_metric;
mod series;
mod source_gap;

use serde::Deserialize;
use shipgate_sdk::model::{Alert, ErrorSignature, Gap, Measurement, Metric};
use shipgate_sdk::prelude::*;

use crate::series::Comparison;

// In the order a reader looks for them: the triggers and the alert and
// error-signature criteria, the failure limit, the success criteria, the
// count, then missing data.
shipgate_sdk::rules! {
    pub RULE_ERROR_RATE = "canary.error-rate"
        => "the canary's error rate is above max_error_rate (rollback; go within it)",
    pub RULE_ERROR_RATE_INCREASE = "canary.error-rate-increase"
        => "the canary's error rate is more than max_error_rate_increase rate points above \
            the baseline's (rollback; go within it)",
    pub RULE_LATENCY = "canary.latency"
        => "a latency metric's canary value is above max_latency_ratio times the baseline's \
            (rollback; one finding per metric, go within it)",
    pub RULE_CPU = "canary.cpu"
        => "the canary's CPU usage is above max_cpu (rollback; go within it)",
    pub RULE_MEMORY = "canary.memory"
        => "the canary's memory usage is above max_memory (rollback; go within it)",
    pub RULE_NEW_CRITICAL_ERRORS = "canary.new-critical-errors"
        => "the logs have new critical error signatures (rollback; go when none)",
    pub RULE_ALERTS = "canary.alerts"
        => "an alert with a severity in alert_severities is firing (rollback; go when none)",
    pub RULE_OTHER_ALERTS = "canary.other-alerts"
        => "with success_no_alerts, an alert that does not roll back is firing (hold: not \
            yet a success)",
    pub RULE_NEW_ERRORS = "canary.new-errors"
        => "with success_no_new_errors, new error signatures that are not critical are in \
            the logs (hold: not yet a success)",
    /// Argo Rollouts' `failureLimit`, Flagger's `threshold`.
    pub RULE_FAILURE_LIMIT = "canary.failure-limit"
        => "a trigger breached: rollback when the failed intervals reach \
            max_failed_intervals (per metric: when a metric's failures exceed \
            failure_limit), hold below it",
    pub RULE_SUCCESS = "canary.success"
        => "every success criterion is met on complete data (go: promote)",
    pub RULE_INCONCLUSIVE = "canary.inconclusive"
        => "no trigger breached but a success criterion is not met (hold, one per \
            criterion)",
    /// Argo Rollouts' `inconclusiveLimit`.
    pub RULE_INCONCLUSIVE_LIMIT = "canary.inconclusive-limit"
        => "the interval is inconclusive: rollback when the inconclusive intervals reach \
            max_inconclusive_intervals, a go note below it (per metric: hold for a person \
            when a metric's inconclusive measurements exceed inconclusive_limit)",
    pub RULE_COUNT = "canary.count"
        => "per-metric counting with count: hold while the analysis runs, go once every \
            metric has count measurements within its limits",
    pub RULE_DATA_MISSING = "canary.data-missing"
        => "a needed metric has no usable value, a latency baseline is not above 0, or the \
            prometheus source has a gap (hold)",
    pub RULE_NO_DATA_LIMIT = "canary.no-data-limit"
        => "data is missing: rollback when the consecutive intervals without data reach \
            max_intervals_without_data (per metric: when a metric's consecutive \
            measurements without data exceed consecutive_error_limit), a go note below it",
}

/// The success criteria: an interval whose `rules` hold one of these (and
/// no trigger, no missing data) is inconclusive.
pub const CRITERION_RULES: &[&str] = &[RULE_INCONCLUSIVE, RULE_OTHER_ALERTS, RULE_NEW_ERRORS];

/// The rollback triggers: an interval whose `rules` hold one of these is a
/// failed interval.
pub const TRIGGER_RULES: &[&str] = &[
    RULE_ERROR_RATE,
    RULE_ERROR_RATE_INCREASE,
    RULE_LATENCY,
    RULE_CPU,
    RULE_MEMORY,
    RULE_NEW_CRITICAL_ERRORS,
    RULE_ALERTS,
];

/// The gap source whose absence means the metrics could not be read.
pub const METRICS_SOURCE: &str = "prometheus";

/// Comparisons allow this much floating-point noise, so that a value exactly
/// at a threshold (`0.07 - 0.02` against `0.05`) counts as at it.
const EPSILON: f64 = 1e-9;

/// How many names a finding lists before it says "and N more".
const MAX_LISTED: usize = 5;

/// The `config` table of the `canary` policy in `shipgate.toml`.
///
/// Rates are fractions (`0.02` = 2%), ratios are multiples of the baseline
/// (`2.0` = 2x). An optional threshold set to `false` (or left unset, when its
/// default is unset) turns its rule off.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The error-rate metric (`error_rate`, a fraction of requests). Always
    /// required.
    pub error_rate_metric: String,
    /// Roll back when the canary's error rate is above this absolute ceiling
    /// (`0.02`; exactly at it passes). Playbook 003's "immediate rollback at
    /// an error rate above 10%" is `0.10`.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_error_rate: Option<f64>,
    /// Roll back when the canary's error rate exceeds the baseline's by more
    /// than this many rate points (unset by default).
    ///
    /// Playbook 003's "error rate > 5% increase" is read as an absolute
    /// increase of 5 percentage points, `0.05`: a baseline of 0.3% alerts
    /// when the canary is above 5.3%. A relative reading (5% more than the
    /// baseline: 0.300% → 0.315%) would fire on noise at low error rates;
    /// the relative comparison is what `success_max_error_ratio` is for.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_error_rate_increase: Option<f64>,
    /// The latency metrics compared with the baseline (`latency_p95`,
    /// `latency_p99`, in seconds). All are required.
    pub latency_metrics: Vec<String>,
    /// Roll back when a latency metric is above this multiple of the
    /// baseline's (`2.0`; exactly at it passes). Playbook 003's "performance
    /// degradation > 50%" is `1.5`.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_latency_ratio: Option<f64>,
    /// The CPU metric (`cpu_usage`, a fraction of the limit). Required only
    /// when `max_cpu` is set.
    pub cpu_metric: String,
    /// Roll back when the canary's CPU usage is above this fraction (unset
    /// by default; playbook 003 says `0.80`).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_cpu: Option<f64>,
    /// The memory metric (`memory_usage`, a fraction of the limit). Required
    /// only when `max_memory` is set.
    pub memory_metric: String,
    /// Roll back when the canary's memory usage is above this fraction
    /// (unset by default; playbook 003 says `0.85`).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_memory: Option<f64>,
    /// Roll back when the logs show error signatures that are both new and
    /// critical (`true`).
    pub rollback_on_new_critical_errors: bool,
    /// Roll back when an alert of one of `alert_severities` is firing
    /// (`true`).
    pub rollback_on_alerts: bool,
    /// The severity labels that trigger a rollback (`["critical"]`, compared
    /// without regard to case). An empty list means any firing alert.
    pub alert_severities: Vec<String>,
    /// Success: no alert of any severity is firing (`false`). With `true`, an
    /// alert that does not roll back (not of `alert_severities`, or
    /// `rollback_on_alerts = false`) holds the promotion
    /// (`canary.other-alerts`): "never ignore monitoring alerts".
    pub success_no_alerts: bool,
    /// Success: no new error signature in the logs, critical or not
    /// (`false`). With `true`, a new signature that is not critical holds the
    /// promotion (`canary.new-errors`); a new critical one is the
    /// `rollback_on_new_critical_errors` trigger.
    pub success_no_new_errors: bool,
    /// Success: the canary's error rate is at most this multiple of the
    /// baseline's (`1.0`: no worse than the baseline).
    pub success_max_error_ratio: f64,
    /// Success: every latency metric is at most this multiple of the
    /// baseline's (`1.10`: within 10%).
    pub success_max_latency_ratio: f64,
    /// Roll back after this many consecutive analysis intervals without
    /// data, this one included (`3`). An earlier interval is without data
    /// when its `data_missing` is set or its `rules` hold
    /// `canary.data-missing`. Argo Rollouts' `consecutiveErrorLimit: N` is
    /// `N + 1` here.
    pub max_intervals_without_data: u32,
    /// Roll back when this many intervals of the rollout, this one
    /// included, had a trigger breached (`1`: the playbooks' "roll back the
    /// moment a trigger fires"). Below it a breach holds. Argo Rollouts'
    /// `failureLimit: N` is `N + 1` here (`failureLimit: 0` is `1`);
    /// Flagger's `threshold: N` is `N`.
    pub max_failed_intervals: u32,
    /// Roll back when this many intervals of the rollout, this one
    /// included, were inconclusive: complete data, no breach, a success
    /// criterion unmet (`10`; `false` turns it off). Argo Rollouts'
    /// `inconclusiveLimit: N` is `N + 1` here.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub max_inconclusive_intervals: Option<u32>,
    /// Argo Rollouts' `failureLimit`, counted per metric: a metric whose
    /// failed measurements exceed it fails the analysis (`rollback`). Setting
    /// any of `failure_limit`, `inconclusive_limit`, `consecutive_error_limit`
    /// or `count` switches to per-metric counting (unset: Argo's default, 0).
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub failure_limit: Option<u32>,
    /// Argo Rollouts' `inconclusiveLimit`, per metric: above it the analysis
    /// is inconclusive and holds for a person to decide (Argo pauses the
    /// rollout). Unset in per-metric counting: Argo's default, 0.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub inconclusive_limit: Option<u32>,
    /// Argo Rollouts' `consecutiveErrorLimit`, per metric: more consecutive
    /// measurements without data than this is an error (`rollback`). Unset
    /// in per-metric counting: Argo's default, 4.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub consecutive_error_limit: Option<u32>,
    /// Argo Rollouts' `count`: the analysis is complete once every metric has
    /// this many measurements (those without data do not count); within the
    /// limits it is successful (`go`), before it the rollout holds. Unset:
    /// the analysis runs for the whole rollout and an interval whose
    /// measurements all succeeded is `go`.
    #[serde(deserialize_with = "shipgate_sdk::or_off")]
    pub count: Option<u32>,
    /// Judge a metric's success criterion with the Mann–Whitney U test
    /// (Kayenta's judge) when both its baseline and canary are series of
    /// samples (`true`). With `false`, or with fewer samples than
    /// `series_min_samples`, the means are compared.
    pub series_test: bool,
    /// The significance level of the test (`0.05`): the canary is
    /// significantly higher when the one-sided p-value is below it.
    pub series_alpha: f64,
    /// The fewest finite samples each side needs for the test (`5`, at
    /// least 3).
    pub series_min_samples: u32,
}

impl Config {
    /// Whether the canary counts per metric (an Argo key is set) rather than
    /// per interval.
    pub fn per_metric(&self) -> bool {
        self.failure_limit.is_some()
            || self.inconclusive_limit.is_some()
            || self.consecutive_error_limit.is_some()
            || self.count.is_some()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            error_rate_metric: "error_rate".into(),
            max_error_rate: Some(0.02),
            max_error_rate_increase: None,
            latency_metrics: vec!["latency_p95".into(), "latency_p99".into()],
            max_latency_ratio: Some(2.0),
            cpu_metric: "cpu_usage".into(),
            max_cpu: None,
            memory_metric: "memory_usage".into(),
            max_memory: None,
            rollback_on_new_critical_errors: true,
            rollback_on_alerts: true,
            alert_severities: vec!["critical".into()],
            success_no_alerts: false,
            success_no_new_errors: false,
            success_max_error_ratio: 1.0,
            success_max_latency_ratio: 1.10,
            max_intervals_without_data: 3,
            max_failed_intervals: 1,
            max_inconclusive_intervals: Some(10),
            failure_limit: None,
            inconclusive_limit: None,
            consecutive_error_limit: None,
            count: None,
            series_test: true,
            series_alpha: 0.05,
            series_min_samples: 5,
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct Canary;

impl Policy for Canary {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "canary",
            "rollback triggers and success criteria during a rollout: error rate, latency, \
             resources, alerts, new critical errors, missing data",
        )
        .stages(&[Stage::Canary])
        .reads(&[
            Section::Metrics,
            Section::Alerts,
            Section::ErrorSignatures,
            Section::Rollout,
        ])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        shipgate_sdk::checks::metric_name("error_rate_metric", &config.error_rate_metric)?;
        shipgate_sdk::checks::metric_name("cpu_metric", &config.cpu_metric)?;
        shipgate_sdk::checks::metric_name("memory_metric", &config.memory_metric)?;
        for (i, name) in config.latency_metrics.iter().enumerate() {
            shipgate_sdk::checks::metric_name(&format!("latency_metrics[{i}]"), name)?;
        }
        check_roles(config)?;
        shipgate_sdk::checks::rate("max_error_rate", config.max_error_rate)?;
        shipgate_sdk::checks::rate("max_error_rate_increase", config.max_error_rate_increase)?;
        shipgate_sdk::checks::rate("max_cpu", config.max_cpu)?;
        shipgate_sdk::checks::rate("max_memory", config.max_memory)?;
        if let Some(r) = config.max_latency_ratio
            && !(r > 1.0 && r.is_finite())
        {
            return Err(ConfigError::new(
                "max_latency_ratio",
                format!("must be a ratio greater than 1, got {r}"),
            ));
        }
        for (key, r) in [
            ("success_max_error_ratio", config.success_max_error_ratio),
            (
                "success_max_latency_ratio",
                config.success_max_latency_ratio,
            ),
        ] {
            if !(r >= 1.0 && r.is_finite()) {
                return Err(ConfigError::new(
                    key,
                    format!("must be a ratio of at least 1, got {r}"),
                ));
            }
        }
        if let Some(max) = config.max_latency_ratio
            && config.success_max_latency_ratio > max
        {
            return Err(ConfigError::new(
                "success_max_latency_ratio",
                format!(
                    "must not be above max_latency_ratio ({max}), got {}",
                    config.success_max_latency_ratio
                ),
            ));
        }
        for (key, n) in [
            (
                "max_intervals_without_data",
                Some(config.max_intervals_without_data),
            ),
            ("max_failed_intervals", Some(config.max_failed_intervals)),
            (
                "max_inconclusive_intervals",
                config.max_inconclusive_intervals,
            ),
        ] {
            if n == Some(0) {
                return Err(ConfigError::new(key, "must be at least 1, got 0"));
            }
        }
        if config.count == Some(0) {
            return Err(ConfigError::new(
                "count",
                "must be at least 1, got 0 (leave it unset to analyse the whole rollout)",
            ));
        }
        if config.per_metric() {
            // The per-interval limits have no effect when counting per metric.
            let defaults = Config::default();
            for (key, set) in [
                (
                    "max_failed_intervals",
                    config.max_failed_intervals != defaults.max_failed_intervals,
                ),
                (
                    "max_inconclusive_intervals",
                    config.max_inconclusive_intervals != defaults.max_inconclusive_intervals,
                ),
                (
                    "max_intervals_without_data",
                    config.max_intervals_without_data != defaults.max_intervals_without_data,
                ),
            ] {
                if set {
                    return Err(ConfigError::new(
                        key,
                        "counts per interval, but failure_limit, inconclusive_limit, \
                         consecutive_error_limit or count count per metric (Argo Rollouts): \
                         use one family of limits",
                    ));
                }
            }
        }
        let alpha = config.series_alpha;
        if !(alpha > 0.0 && alpha < 1.0) {
            return Err(ConfigError::new(
                "series_alpha",
                format!("must be a significance level between 0 and 1 (exclusive), got {alpha}"),
            ));
        }
        if config.series_min_samples < 3 {
            return Err(ConfigError::new(
                "series_min_samples",
                format!("must be at least 3, got {}", config.series_min_samples),
            ));
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

/// Each metric in one role: a metric judged twice (the error-rate metric
/// also listed as a latency metric, a latency metric listed twice, the CPU
/// metric one of them) would be one measure counted per metric, and one
/// role's triggers would be lost. Counted per metric, the alerts and the
/// error signatures are measures too, so their names are taken.
fn check_roles(config: &Config) -> Result<(), ConfigError> {
    let mut roles: Vec<(String, &str)> =
        vec![("error_rate_metric".into(), &config.error_rate_metric)];
    for (i, name) in config.latency_metrics.iter().enumerate() {
        roles.push((format!("latency_metrics[{i}]"), name));
    }
    if config.max_cpu.is_some() {
        roles.push(("cpu_metric".into(), &config.cpu_metric));
    }
    if config.max_memory.is_some() {
        roles.push(("memory_metric".into(), &config.memory_metric));
    }
    for (i, (key, name)) in roles.iter().enumerate() {
        if let Some((first, _)) = roles[..i].iter().find(|(_, n)| n == name) {
            return Err(ConfigError::new(
                key.as_str(),
                format!(
                    "`{name}` is already {first}: a metric is judged in one role (its triggers \
                     would be counted as one metric's)"
                ),
            ));
        }
        if config.per_metric() && [per_metric::ALERTS, per_metric::ERROR_SIGNATURES].contains(name)
        {
            return Err(ConfigError::new(
                key.as_str(),
                format!(
                    "`{name}` is the name the {} are counted under per metric: a metric must \
                     have another name",
                    name.replace('_', " ")
                ),
            ));
        }
    }
    Ok(())
}

/// The rule itself, as a plain function (unit-tested and benchmarked
/// natively).
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let mut judge = Judge {
        snapshot,
        config,
        findings: Vec::new(),
        missing_now: false,
        breached: false,
        unmet: Vec::new(),
        met: Vec::new(),
    };
    let why = |gap: &Gap| {
        format!(
            "the metrics source `{}` could not be read ({}): no metric counts as complete",
            gap.source, gap.reason
        )
    };
    if config.per_metric() {
        // Counted per metric: each metric's own measurement says whether it
        // has data (a failed query is its `Error`), so a gap about another
        // query is not this metric's. Only a source that gave no data at
        // all is every metric's error.
        if let Some(gap) = source_gap::unreachable(snapshot) {
            for m in per_metric::measures(config) {
                if snapshot.metric(&m.name).is_some() {
                    judge.data_missing(&m.name, why(gap));
                }
            }
        }
    } else if let Some(gap) = snapshot.gap(METRICS_SOURCE) {
        judge.missing_now = true;
        judge
            .findings
            .push(Finding::hold(RULE_DATA_MISSING, why(gap)));
    }
    judge.error_rate();
    judge.latency();
    judge.resource(RULE_CPU, "CPU", &config.cpu_metric, config.max_cpu);
    judge.resource(
        RULE_MEMORY,
        "memory",
        &config.memory_metric,
        config.max_memory,
    );
    judge.alerts();
    judge.new_critical_errors();
    judge.breached = judge
        .findings
        .iter()
        .any(|f| f.verdict == Verdict::Rollback && TRIGGER_RULES.contains(&f.rule.as_str()));
    if config.per_metric() {
        judge.per_metric();
    } else {
        judge.failure_limit();
        judge.no_data_limit();
        let inconclusive = judge.success();
        judge.inconclusive_limit(inconclusive);
    }
    Decision::from_findings(judge.findings)
}

/// One evaluation in progress.
struct Judge<'a> {
    snapshot: &'a Snapshot,
    config: &'a Config,
    findings: Vec<Finding>,
    /// Whether any required data is missing in this interval.
    missing_now: bool,
    /// Whether a rollback trigger breached in this interval (before
    /// `max_failed_intervals` may downgrade it to `hold`).
    breached: bool,
    /// Success criteria not met, as `inconclusive` findings.
    unmet: Vec<Finding>,
    /// Success criteria met, described for the `success` finding.
    met: Vec<String>,
}

/// A metric's two sides, each a usable number or why there is none.
struct Sides<'a> {
    metric: &'a Metric,
    canary: Result<f64, String>,
    baseline: Result<f64, String>,
}

impl<'a> Sides<'a> {
    fn of(metric: &'a Metric) -> Self {
        Sides {
            metric,
            canary: usable(&metric.canary),
            baseline: usable(&metric.baseline),
        }
    }

    /// What is missing, if anything: "canary: no data; baseline: stale".
    fn missing(&self) -> Option<String> {
        let parts: Vec<String> = [("canary", &self.canary), ("baseline", &self.baseline)]
            .into_iter()
            .filter_map(|(side, v)| v.as_ref().err().map(|why| format!("{side} {why}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

fn usable(m: &Measurement) -> Result<f64, String> {
    m.value()
        .ok_or_else(|| m.missing_reason().unwrap_or_else(|| "no value".into()))
}

impl<'a> Judge<'a> {
    fn data_missing(&mut self, name: &str, why: impl std::fmt::Display) {
        self.missing_now = true;
        // Nothing was compared, so no evidence: the message says what is missing.
        self.findings.push(
            Finding::hold(
                RULE_DATA_MISSING,
                format!("metric `{name}` has no usable data: {why}"),
            )
            .metric(name),
        );
    }

    /// The metric by name, or a `data-missing` finding.
    fn metric(&mut self, name: &str) -> Option<Sides<'a>> {
        let snapshot = self.snapshot;
        match snapshot.metric(name) {
            Some(m) => Some(Sides::of(m)),
            None => {
                self.data_missing(name, "not in the snapshot");
                None
            }
        }
    }

    fn error_rate(&mut self) {
        let config = self.config;
        let name = config.error_rate_metric.as_str();
        let Some(sides) = self.metric(name) else {
            return;
        };
        let (canary, baseline) = (sides.canary.clone().ok(), sides.baseline.clone().ok());
        if let Some(why) = sides.missing() {
            self.data_missing(name, why);
        }
        let zero_baseline = baseline == Some(0.0) && canary.is_some_and(|c| c > 0.0);
        let zero_note = "the baseline's error rate is 0, so the canary/baseline ratio is not \
                         meaningful: the ceiling alone decides a rollback";

        // The absolute ceiling needs only the canary.
        if let (Some(max), Some(c)) = (config.max_error_rate, canary) {
            let evidence = (percent(c), format!("<= {}", percent(max)));
            self.findings.push(if above(c, max) {
                Finding::rollback(
                    RULE_ERROR_RATE,
                    format!(
                        "canary {name} {} is above the {} ceiling",
                        percent(c),
                        percent(max)
                    ),
                )
                .evidence(evidence.0, evidence.1)
                .metric(name)
            } else {
                let note = if zero_baseline {
                    format!("; {zero_note}")
                } else {
                    String::new()
                };
                Finding::pass(
                    RULE_ERROR_RATE,
                    format!(
                        "canary {name} {} is within the {} ceiling{note}",
                        percent(c),
                        percent(max)
                    ),
                )
                .evidence(evidence.0, evidence.1)
                .metric(name)
            });
        }

        let (Some(c), Some(b)) = (canary, baseline) else {
            return;
        };

        if let Some(max) = config.max_error_rate_increase {
            let increase = c - b;
            let observed = format!(
                "{} ({} vs {} baseline)",
                points(increase),
                percent(c),
                percent(b)
            );
            let expected = format!("<= {}", points(max));
            self.findings.push(if above(increase, max) {
                Finding::rollback(
                    RULE_ERROR_RATE_INCREASE,
                    format!(
                        "canary {name} {} is {} above the baseline's {} (limit {})",
                        percent(c),
                        points(increase).trim_start_matches('+'),
                        percent(b),
                        points(max)
                    ),
                )
                .evidence(observed, expected)
                .metric(name)
            } else {
                Finding::pass(
                    RULE_ERROR_RATE_INCREASE,
                    format!(
                        "canary {name} {} is within {} of the baseline's {}",
                        percent(c),
                        points(max),
                        percent(b)
                    ),
                )
                .evidence(observed, expected)
                .metric(name)
            });
        }

        // Success: no worse than the baseline (times the ratio), on the
        // series when there are series.
        let ratio = config.success_max_error_ratio;
        let note = match series::compare(sides.metric, config, ratio) {
            Comparison::Test(test) => {
                self.series_criterion(name, &test, "above", &percent);
                return;
            }
            Comparison::TooFew(note) => note,
            Comparison::Means => String::new(),
        };
        if zero_baseline {
            // The stable version has no errors and the canary has some: the
            // playbooks' "error rate <= baseline" and "no new errors" are not
            // met, whatever the ceiling says (the ceiling decides rollback).
            self.unmet.push(
                Finding::hold(
                    RULE_INCONCLUSIVE,
                    format!(
                        "canary {name} is {} against a baseline of 0: errors the stable \
                         version does not have, not yet a success{note}",
                        percent(c)
                    ),
                )
                .evidence(percent(c), "0.00% (the baseline)")
                .metric(name),
            );
        } else if above(c, b * ratio) {
            self.unmet.push(
                Finding::hold(
                    RULE_INCONCLUSIVE,
                    format!(
                        "canary {name} {} is above the baseline's {}{}: not yet a \
                         success{note}",
                        percent(c),
                        percent(b),
                        times_suffix(ratio)
                    ),
                )
                .evidence(
                    format!("{} ({:.2}x baseline {})", percent(c), c / b, percent(b)),
                    format!("<= {} ({ratio:.2}x baseline)", percent(b * ratio)),
                )
                .metric(name),
            );
        } else {
            self.met.push(format!(
                "{name} {} <= {}{}{note}",
                percent(c),
                percent(b),
                times_suffix(ratio)
            ));
        }
    }

    fn latency(&mut self) {
        let config = self.config;
        for name in &config.latency_metrics {
            let Some(sides) = self.metric(name) else {
                continue;
            };
            if let Some(why) = sides.missing() {
                self.data_missing(name, why);
                continue;
            }
            let (Ok(c), Ok(b)) = (sides.canary.clone(), sides.baseline.clone()) else {
                continue;
            };
            let unit = sides.metric.unit.clone();
            if b <= 0.0 {
                self.data_missing(
                    name,
                    format!(
                        "baseline is {}, so the canary/baseline ratio is not meaningful",
                        latency(b, unit.as_deref())
                    ),
                );
                continue;
            }
            let r = c / b;
            let values = format!(
                "{} vs {} baseline",
                latency(c, unit.as_deref()),
                latency(b, unit.as_deref())
            );
            if let Some(max) = config.max_latency_ratio
                && above(r, max)
            {
                self.findings.push(
                    Finding::rollback(
                        RULE_LATENCY,
                        format!(
                            "canary {name} is {r:.2}x the baseline ({values}), above the \
                             {max:.2}x limit"
                        ),
                    )
                    .evidence(
                        format!("{r:.2}x ({values})"),
                        format!("<= {max:.2}x baseline"),
                    )
                    .metric(name),
                );
                continue;
            }
            if let Some(max) = config.max_latency_ratio {
                self.findings.push(
                    Finding::pass(
                        RULE_LATENCY,
                        format!(
                            "canary {name} is {r:.2}x the baseline ({values}), within the \
                             {max:.2}x limit"
                        ),
                    )
                    .evidence(
                        format!("{r:.2}x ({values})"),
                        format!("<= {max:.2}x baseline"),
                    )
                    .metric(name),
                );
            }
            let success = config.success_max_latency_ratio;
            let note = match series::compare(sides.metric, config, success) {
                Comparison::Test(test) => {
                    let unit = unit.as_deref();
                    self.series_criterion(name, &test, "slower than", &|x| latency(x, unit));
                    continue;
                }
                Comparison::TooFew(note) => note,
                Comparison::Means => String::new(),
            };
            if above(r, success) {
                self.unmet.push(
                    Finding::hold(
                        RULE_INCONCLUSIVE,
                        format!(
                            "canary {name} is {r:.2}x the baseline ({values}), not within \
                             {success:.2}x of it: not yet a success{note}"
                        ),
                    )
                    .evidence(
                        format!("{r:.2}x ({values})"),
                        format!("<= {success:.2}x baseline"),
                    )
                    .metric(name),
                );
            } else {
                self.met
                    .push(format!("{name} {r:.2}x <= {success:.2}x baseline{note}"));
            }
        }
    }

    /// CPU or memory: an absolute ceiling on the canary's usage, checked only
    /// when the ceiling is set. The baseline is not needed.
    fn resource(&mut self, rule: &str, what: &str, name: &str, max: Option<f64>) {
        let Some(max) = max else {
            return;
        };
        let Some(sides) = self.metric(name) else {
            return;
        };
        let c = match sides.canary.clone() {
            Ok(c) => c,
            Err(why) => {
                self.data_missing(name, format!("canary {why}"));
                return;
            }
        };
        let evidence = (percent(c), format!("<= {}", percent(max)));
        self.findings.push(if above(c, max) {
            Finding::rollback(
                rule,
                format!(
                    "canary {what} usage ({name}) {} is above the {} limit",
                    percent(c),
                    percent(max)
                ),
            )
            .evidence(evidence.0, evidence.1)
            .metric(name)
        } else {
            Finding::pass(
                rule,
                format!(
                    "canary {what} usage ({name}) {} is within the {} limit",
                    percent(c),
                    percent(max)
                ),
            )
            .evidence(evidence.0, evidence.1)
            .metric(name)
        });
    }

    fn alerts(&mut self) {
        let config = self.config;
        let matches = |a: &Alert| {
            config.rollback_on_alerts
                && (config.alert_severities.is_empty()
                    || a.severity.as_deref().is_some_and(|s| {
                        config
                            .alert_severities
                            .iter()
                            .any(|x| x.eq_ignore_ascii_case(s))
                    }))
        };
        let (firing, others): (Vec<&Alert>, Vec<&Alert>) =
            self.snapshot.alerts.iter().partition(|a| matches(a));
        let severities = if config.alert_severities.is_empty() {
            "any severity".to_owned()
        } else {
            format!("severity {}", config.alert_severities.join(" or "))
        };
        let describe = |a: &&Alert| match &a.severity {
            Some(s) => format!("{} ({s})", a.name),
            None => format!("{} (no severity)", a.name),
        };
        // Counted per metric, alerts that could not be read are the alerts
        // measure's missing data, never "none firing" (a firing alert that
        // was read still rolls back).
        let unread =
            if config.per_metric() && (config.rollback_on_alerts || config.success_no_alerts) {
                source_gap::alerts_unread(self.snapshot)
            } else {
                None
            };
        if let Some(gap) = unread
            && firing.is_empty()
        {
            self.missing_now = true;
            self.findings.push(
                Finding::hold(
                    RULE_DATA_MISSING,
                    format!(
                        "the alerts could not be read: the source `{}` has a gap ({}): no \
                         firing alert is known, and none firing is not assumed",
                        gap.source, gap.reason
                    ),
                )
                .metric(per_metric::ALERTS),
            );
            return;
        }
        if config.success_no_alerts {
            // "Never ignore monitoring alerts": any other firing alert holds
            // the promotion.
            if others.is_empty() {
                self.met.push("no alert firing".into());
            } else {
                self.unmet.push(
                    Finding::hold(
                        RULE_OTHER_ALERTS,
                        format!(
                            "{} firing: {}: not yet a success (success_no_alerts)",
                            count(others.len(), "alert", "alerts"),
                            listed(others.iter().map(describe))
                        ),
                    )
                    .evidence(format!("{} firing", others.len()), "no alert firing"),
                );
            }
        }
        if !config.rollback_on_alerts {
            return;
        }
        if firing.is_empty() {
            let note = if others.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} other firing: {}",
                    count(others.len(), "alert", "alerts"),
                    listed(others.iter().map(describe))
                )
            };
            // With the metrics source in a gap, "none firing" is not known:
            // say what was read, not that all is quiet.
            let message = match self.snapshot.gap(METRICS_SOURCE) {
                Some(gap) => format!(
                    "no firing alert of {severities} was read, but the source `{}` has a gap \
                     ({}): alerts may be unknown{note}",
                    gap.source, gap.reason
                ),
                None => format!("no alert of {severities} is firing{note}"),
            };
            self.findings.push(Finding::pass(RULE_ALERTS, message));
        } else {
            self.findings.push(
                Finding::rollback(
                    RULE_ALERTS,
                    format!(
                        "{} of {severities} firing: {}",
                        count(firing.len(), "alert", "alerts"),
                        listed(firing.iter().map(describe))
                    ),
                )
                .evidence(
                    format!("{} firing", firing.len()),
                    format!("no alert of {severities}"),
                ),
            );
        }
    }

    fn new_critical_errors(&mut self) {
        if self.config.success_no_new_errors {
            // "No new errors introduced": a new signature that is not
            // critical holds the promotion (a critical one is the trigger).
            let new: Vec<&ErrorSignature> = self
                .snapshot
                .error_signatures
                .iter()
                .filter(|e| e.new && !(e.critical && self.config.rollback_on_new_critical_errors))
                .collect();
            if new.is_empty() {
                self.met.push("no new error signatures".into());
            } else {
                self.unmet.push(
                    Finding::hold(
                        RULE_NEW_ERRORS,
                        format!(
                            "{} in the logs: {}: not yet a success (success_no_new_errors)",
                            count(new.len(), "new error signature", "new error signatures"),
                            listed(
                                new.iter()
                                    .map(|e| format!("`{}` ({}x)", e.signature, e.count))
                            )
                        ),
                    )
                    .evidence(format!("{} new", new.len()), "0 new"),
                );
            }
        }
        if !self.config.rollback_on_new_critical_errors {
            return;
        }
        let new: Vec<&ErrorSignature> = self
            .snapshot
            .error_signatures
            .iter()
            .filter(|e| e.new && e.critical)
            .collect();
        if new.is_empty() {
            self.findings.push(Finding::pass(
                RULE_NEW_CRITICAL_ERRORS,
                "no new critical error signatures in the logs",
            ));
        } else {
            self.findings.push(
                Finding::rollback(
                    RULE_NEW_CRITICAL_ERRORS,
                    format!(
                        "{} in the logs: {}",
                        count(
                            new.len(),
                            "new critical error signature",
                            "new critical error signatures"
                        ),
                        listed(
                            new.iter()
                                .map(|e| format!("`{}` ({}x)", e.signature, e.count))
                        )
                    ),
                )
                .evidence(format!("{} new critical", new.len()), "0 new critical"),
            );
        }
    }

    /// `success` when every criterion is met on complete data, an
    /// `inconclusive` hold per unmet criterion; nothing when a trigger
    /// breached (even one held below `max_failed_intervals`: a breach is
    /// never `go`) or something else asks for a rollback. Returns whether
    /// this interval is inconclusive: complete data, no breach, a criterion
    /// unmet.
    fn success(&mut self) -> bool {
        if self.breached || self.findings.iter().any(|f| f.verdict == Verdict::Rollback) {
            return false;
        }
        if !self.unmet.is_empty() {
            self.findings.append(&mut self.unmet);
            return !self.missing_now;
        }
        if self.missing_now {
            return false;
        }
        let met = std::mem::take(&mut self.met);
        self.findings.push(Finding::pass(
            RULE_SUCCESS,
            format!("success criteria met, promote: {}", met.join("; ")),
        ));
        false
    }
}

/// `x` is above `limit`, beyond floating-point noise.
fn above(x: f64, limit: f64) -> bool {
    x - limit > EPSILON
}

/// A rate as a percentage: `2.41%`.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

/// A difference of rates in percentage points: `+1.50 points`.
fn points(diff: f64) -> String {
    format!("{:+.2} points", diff * 100.0)
}

/// ` x 1.20` for a ratio other than 1.
fn times_suffix(ratio: f64) -> String {
    if (ratio - 1.0).abs() < EPSILON {
        String::new()
    } else {
        format!(" x {ratio:.2}")
    }
}

/// A latency in human units: seconds (the default unit) as `310 ms`.
fn latency(value: f64, unit: Option<&str>) -> String {
    match unit {
        None | Some("s" | "seconds" | "second") => format!("{:.0} ms", value * 1000.0),
        Some("ms" | "milliseconds" | "millisecond") => format!("{value:.0} ms"),
        Some(other) => format!("{value} {other}"),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first few items, then "and N more".
fn listed(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    let mut text = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_LISTED {
        text.push_str(&format!(" and {} more", items.len() - MAX_LISTED));
    }
    text
}

shipgate_sdk::export_policy!(Canary);

#[cfg(test)]
mod tests;
