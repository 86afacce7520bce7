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

use serde::Deserialize;
use shipgate_sdk::model::{Alert, ErrorSignature, Measurement, Metric};
use shipgate_sdk::prelude::*;

/// The canary's error rate is above the absolute ceiling `max_error_rate`
/// (`rollback`).
pub const RULE_ERROR_RATE: &str = "canary.error-rate";
/// The canary's error rate is more than `max_error_rate_increase` rate points
/// above the baseline's (`rollback`).
pub const RULE_ERROR_RATE_INCREASE: &str = "canary.error-rate-increase";
/// A latency metric is more than `max_latency_ratio` times the baseline's
/// (`rollback`, one finding per metric).
pub const RULE_LATENCY: &str = "canary.latency";
/// The canary's CPU usage is above `max_cpu` (`rollback`).
pub const RULE_CPU: &str = "canary.cpu";
/// The canary's memory usage is above `max_memory` (`rollback`).
pub const RULE_MEMORY: &str = "canary.memory";
/// New critical error signatures in the logs (`rollback`).
pub const RULE_NEW_CRITICAL_ERRORS: &str = "canary.new-critical-errors";
/// An alert of a listed severity is firing (`rollback`).
pub const RULE_ALERTS: &str = "canary.alerts";
/// Every success criterion is met on complete data (`go`: promote).
pub const RULE_SUCCESS: &str = "canary.success";
/// No trigger fired, but a success criterion is not met (`hold`).
pub const RULE_INCONCLUSIVE: &str = "canary.inconclusive";
/// A metric the policy needs has no usable value, or the metrics source could
/// not be read (`hold`).
pub const RULE_DATA_MISSING: &str = "canary.data-missing";
/// Data has been missing for `max_intervals_without_data` consecutive
/// intervals, this one included (`rollback`).
pub const RULE_NO_DATA_LIMIT: &str = "canary.no-data-limit";

/// Every rule id of the policy.
pub const RULES: &[&str] = &[
    RULE_ERROR_RATE,
    RULE_ERROR_RATE_INCREASE,
    RULE_LATENCY,
    RULE_CPU,
    RULE_MEMORY,
    RULE_NEW_CRITICAL_ERRORS,
    RULE_ALERTS,
    RULE_SUCCESS,
    RULE_INCONCLUSIVE,
    RULE_DATA_MISSING,
    RULE_NO_DATA_LIMIT,
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
/// (`2.0` = 2x). An optional threshold set to `null` (or left unset, when its
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
    pub max_error_rate: Option<f64>,
    /// Roll back when the canary's error rate exceeds the baseline's by more
    /// than this many rate points (unset by default).
    ///
    /// Playbook 003's "error rate > 5% increase" is read as an absolute
    /// increase of 5 percentage points, `0.05`: a baseline of 0.3% alerts
    /// when the canary is above 5.3%. A relative reading (5% more than the
    /// baseline: 0.300% → 0.315%) would fire on noise at low error rates;
    /// the relative comparison is what `success_max_error_ratio` is for.
    pub max_error_rate_increase: Option<f64>,
    /// The latency metrics compared with the baseline (`latency_p95`,
    /// `latency_p99`, in seconds). All are required.
    pub latency_metrics: Vec<String>,
    /// Roll back when a latency metric is above this multiple of the
    /// baseline's (`2.0`; exactly at it passes). Playbook 003's "performance
    /// degradation > 50%" is `1.5`.
    pub max_latency_ratio: Option<f64>,
    /// The CPU metric (`cpu_usage`, a fraction of the limit). Required only
    /// when `max_cpu` is set.
    pub cpu_metric: String,
    /// Roll back when the canary's CPU usage is above this fraction (unset
    /// by default; playbook 003 says `0.80`).
    pub max_cpu: Option<f64>,
    /// The memory metric (`memory_usage`, a fraction of the limit). Required
    /// only when `max_memory` is set.
    pub memory_metric: String,
    /// Roll back when the canary's memory usage is above this fraction
    /// (unset by default; playbook 003 says `0.85`).
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
    /// Success: the canary's error rate is at most this multiple of the
    /// baseline's (`1.0`: no worse than the baseline).
    pub success_max_error_ratio: f64,
    /// Success: every latency metric is at most this multiple of the
    /// baseline's (`1.10`: within 10%).
    pub success_max_latency_ratio: f64,
    /// Roll back after this many consecutive analysis intervals without
    /// data, this one included (`3`), like Argo Rollouts'
    /// `consecutiveErrorLimit`.
    pub max_intervals_without_data: u32,
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
            success_max_error_ratio: 1.0,
            success_max_latency_ratio: 1.10,
            max_intervals_without_data: 3,
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
        .version(env!("CARGO_PKG_VERSION"))
        .stages(&[Stage::Canary])
        .reads(&[
            Section::Metrics,
            Section::Alerts,
            Section::ErrorSignatures,
            Section::Rollout,
        ])
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        check_name("error_rate_metric", &config.error_rate_metric)?;
        check_name("cpu_metric", &config.cpu_metric)?;
        check_name("memory_metric", &config.memory_metric)?;
        for (i, name) in config.latency_metrics.iter().enumerate() {
            check_name(&format!("latency_metrics[{i}]"), name)?;
        }
        check_rate("max_error_rate", config.max_error_rate)?;
        check_rate("max_error_rate_increase", config.max_error_rate_increase)?;
        check_rate("max_cpu", config.max_cpu)?;
        check_rate("max_memory", config.max_memory)?;
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
        if config.max_intervals_without_data < 1 {
            return Err(ConfigError::new(
                "max_intervals_without_data",
                "must be at least 1, got 0",
            ));
        }
        Ok(())
    }

    fn evaluate(stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(stage, snapshot, config))
    }
}

fn check_name(key: &str, name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(ConfigError::new(key, "must be a metric name, got \"\""));
    }
    Ok(())
}

fn check_rate(key: &str, rate: Option<f64>) -> Result<(), ConfigError> {
    match rate {
        Some(r) if !(0.0..=1.0).contains(&r) => Err(ConfigError::new(
            key,
            format!("must be a rate in [0, 1], got {r}"),
        )),
        _ => Ok(()),
    }
}

/// The rule itself, as a plain function (unit-tested and benchmarked
/// natively).
pub fn decide(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Decision {
    let mut judge = Judge {
        snapshot,
        config,
        findings: Vec::new(),
        missing_now: false,
        unmet: Vec::new(),
        met: Vec::new(),
    };
    if let Some(gap) = snapshot.gap(METRICS_SOURCE) {
        judge.missing_now = true;
        judge.findings.push(Finding::hold(
            RULE_DATA_MISSING,
            format!(
                "the metrics source `{}` could not be read ({}): no metric counts as complete",
                gap.source, gap.reason
            ),
        ));
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
    judge.no_data_limit();
    judge.success();
    Decision::from_findings(judge.findings)
}

/// One evaluation in progress.
struct Judge<'a> {
    snapshot: &'a Snapshot,
    config: &'a Config,
    findings: Vec<Finding>,
    /// Whether any required data is missing in this interval.
    missing_now: bool,
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
        self.findings.push(Finding::hold(
            RULE_DATA_MISSING,
            format!("metric `{name}` has no usable data: {why}"),
        ));
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
            });
        }

        // Success: no worse than the baseline (times the ratio).
        let ratio = config.success_max_error_ratio;
        if zero_baseline {
            // The stable version has no errors and the canary has some: the
            // playbooks' "error rate <= baseline" and "no new errors" are not
            // met, whatever the ceiling says (the ceiling decides rollback).
            self.unmet.push(
                Finding::hold(
                    RULE_INCONCLUSIVE,
                    format!(
                        "canary {name} is {} against a baseline of 0: errors the stable \
                         version does not have, not yet a success",
                        percent(c)
                    ),
                )
                .evidence(percent(c), "0.00% (the baseline)"),
            );
        } else if above(c, b * ratio) {
            self.unmet.push(
                Finding::hold(
                    RULE_INCONCLUSIVE,
                    format!(
                        "canary {name} {} is above the baseline's {}{}: not yet a success",
                        percent(c),
                        percent(b),
                        times_suffix(ratio)
                    ),
                )
                .evidence(
                    format!("{} ({:.2}x baseline {})", percent(c), c / b, percent(b)),
                    format!("<= {} ({ratio:.2}x baseline)", percent(b * ratio)),
                ),
            );
        } else {
            self.met.push(format!(
                "{name} {} <= {}{}",
                percent(c),
                percent(b),
                times_suffix(ratio)
            ));
        }
    }

    fn latency(&mut self) {
        let config = self.config;
        let mut checked: Vec<(String, f64)> = Vec::new();
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
                    ),
                );
                continue;
            }
            checked.push((format!("{name} {r:.2}x"), r));
            let success = config.success_max_latency_ratio;
            if above(r, success) {
                self.unmet.push(
                    Finding::hold(
                        RULE_INCONCLUSIVE,
                        format!(
                            "canary {name} is {r:.2}x the baseline ({values}), not within \
                             {success:.2}x of it: not yet a success"
                        ),
                    )
                    .evidence(
                        format!("{r:.2}x ({values})"),
                        format!("<= {success:.2}x baseline"),
                    ),
                );
            } else {
                self.met
                    .push(format!("{name} {r:.2}x <= {success:.2}x baseline"));
            }
        }
        if let Some(max) = config.max_latency_ratio
            && let Some(worst) = checked.iter().map(|(_, r)| *r).reduce(f64::max)
        {
            let list: Vec<String> = checked.into_iter().map(|(s, _)| s).collect();
            self.findings.push(
                Finding::pass(
                    RULE_LATENCY,
                    format!(
                        "latency within {max:.2}x of the baseline: {}",
                        list.join(", ")
                    ),
                )
                .evidence(format!("{worst:.2}x"), format!("<= {max:.2}x baseline")),
            );
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
        });
    }

    fn alerts(&mut self) {
        let config = self.config;
        if !config.rollback_on_alerts {
            return;
        }
        let matches = |a: &Alert| {
            config.alert_severities.is_empty()
                || a.severity.as_deref().is_some_and(|s| {
                    config
                        .alert_severities
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(s))
                })
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
            self.findings.push(Finding::pass(
                RULE_ALERTS,
                format!("no alert of {severities} is firing{note}"),
            ));
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

    /// Consecutive intervals without data: the trailing `data_missing`
    /// entries of the rollout's history plus this interval. Only counted when
    /// data is missing now: an interval with data ends the streak.
    fn no_data_limit(&mut self) {
        if !self.missing_now {
            return;
        }
        let before = self.snapshot.rollout.as_ref().map_or(0, |r| {
            r.history
                .iter()
                .rev()
                .take_while(|i| i.data_missing)
                .count()
        });
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

    /// `success` when every criterion is met on complete data, an
    /// `inconclusive` hold per unmet criterion; nothing when a trigger
    /// already asks for a rollback.
    fn success(&mut self) {
        if self.findings.iter().any(|f| f.verdict == Verdict::Rollback) {
            return;
        }
        if !self.unmet.is_empty() {
            self.findings.append(&mut self.unmet);
            return;
        }
        if self.missing_now {
            return;
        }
        let met = std::mem::take(&mut self.met);
        self.findings.push(Finding::pass(
            RULE_SUCCESS,
            format!("success criteria met, promote: {}", met.join("; ")),
        ));
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
mod tests {
    use super::*;
    use shipgate_sdk::model::{IntervalResult, StaleValue};
    use shipgate_sdk::testing::{evaluate, snapshot_from_json};

    const P95: &str = "latency_p95";
    const P99: &str = "latency_p99";

    fn v(x: f64) -> Measurement {
        Measurement::Value(x)
    }

    fn metric(name: &str, baseline: Measurement, canary: Measurement) -> Metric {
        Metric {
            name: name.into(),
            unit: None,
            baseline,
            canary,
        }
    }

    /// A healthy canary: error rate below baseline, latency within 10%.
    fn healthy() -> Snapshot {
        let mut s = snapshot_from_json(
            r#"{
              "deployment": { "service": "checkout", "environment": "production", "version": "2.0.0",
                              "commit": "abc123", "requested_at": "2026-11-20T10:00:00Z" },
              "rollout": { "strategy": "canary", "phase": 0, "traffic_percent": 10,
                           "seconds_in_phase": 600,
                           "steps": [{ "traffic_percent": 10, "hold_seconds": 600 },
                                     { "traffic_percent": 100, "hold_seconds": 1800 }] }
            }"#,
        )
        .unwrap();
        s.metrics = vec![
            metric("error_rate", v(0.003), v(0.002)),
            metric(P95, v(0.25), v(0.245)),
            metric(P99, v(0.5), v(0.5)),
            metric("cpu_usage", v(0.4), v(0.45)),
            metric("memory_usage", v(0.5), v(0.55)),
        ];
        s
    }

    fn set(s: &mut Snapshot, name: &str, baseline: Measurement, canary: Measurement) {
        s.metrics.retain(|m| m.name != name);
        s.metrics.push(metric(name, baseline, canary));
    }

    fn with(name: &str, baseline: Measurement, canary: Measurement) -> Snapshot {
        let mut s = healthy();
        set(&mut s, name, baseline, canary);
        s
    }

    fn run(s: &Snapshot, config: &str) -> Decision {
        evaluate::<Canary>(Stage::Canary, s, config).unwrap()
    }

    /// The rules that asked for `verdict`.
    fn rules(d: &Decision, verdict: Verdict) -> Vec<&str> {
        d.findings
            .iter()
            .filter(|f| f.verdict == verdict)
            .map(|f| f.rule.as_str())
            .collect()
    }

    fn finding<'d>(d: &'d Decision, rule: &str, verdict: Verdict) -> &'d Finding {
        d.findings
            .iter()
            .find(|f| f.rule == rule && f.verdict == verdict)
            .unwrap_or_else(|| panic!("no {verdict} finding {rule} in {d:#?}"))
    }

    fn assert_rollback(d: &Decision, rule: &str) {
        assert_eq!(d.verdict, Verdict::Rollback, "{d:#?}");
        finding(d, rule, Verdict::Rollback);
    }

    fn assert_hold(d: &Decision, rule: &str) {
        assert_eq!(d.verdict, Verdict::Hold, "{d:#?}");
        finding(d, rule, Verdict::Hold);
    }

    fn history(missing: &[bool]) -> Vec<IntervalResult> {
        missing
            .iter()
            .enumerate()
            .map(|(i, &m)| IntervalResult {
                phase: 0,
                at: shipgate_sdk::model::Timestamp(1_000 * i as i64),
                verdict: if m { Verdict::Hold } else { Verdict::Go },
                data_missing: m,
            })
            .collect()
    }

    #[test]
    fn healthy_canary_is_promoted_and_shows_what_was_checked() {
        let d = run(&healthy(), "{}");
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
        let go = rules(&d, Verdict::Go);
        for rule in [
            RULE_ERROR_RATE,
            RULE_LATENCY,
            RULE_ALERTS,
            RULE_NEW_CRITICAL_ERRORS,
            RULE_SUCCESS,
        ] {
            assert!(go.contains(&rule), "{rule} missing from {go:?}");
        }
        // One passing finding per rule, not per metric.
        assert_eq!(go.iter().filter(|r| **r == RULE_LATENCY).count(), 1);
        let e = finding(&d, RULE_ERROR_RATE, Verdict::Go)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(
            (e.observed.as_str(), e.expected.as_str()),
            ("0.20%", "<= 2.00%")
        );
        // Unset thresholds are not checked.
        assert!(!go.contains(&RULE_CPU) && !go.contains(&RULE_ERROR_RATE_INCREASE));
    }

    #[test]
    fn error_rate_ceiling_boundary() {
        // Baseline above both, so only the ceiling decides.
        let at = with("error_rate", v(0.03), v(0.02));
        assert_eq!(run(&at, "{}").verdict, Verdict::Go);
        let d = run(&with("error_rate", v(0.03), v(0.0201)), "{}");
        assert_rollback(&d, RULE_ERROR_RATE);
        let e = finding(&d, RULE_ERROR_RATE, Verdict::Rollback)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(
            (e.observed.as_str(), e.expected.as_str()),
            ("2.01%", "<= 2.00%")
        );
        // Playbook 003: immediate rollback above 10%.
        let s = with("error_rate", v(0.2), v(0.09));
        assert_eq!(run(&s, r#"{"max_error_rate": 0.10}"#).verdict, Verdict::Go);
        let s = with("error_rate", v(0.2), v(0.11));
        assert_rollback(&run(&s, r#"{"max_error_rate": 0.10}"#), RULE_ERROR_RATE);
        // null turns the ceiling off.
        let d = run(&s, r#"{"max_error_rate": null}"#);
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    }

    #[test]
    fn error_rate_increase_in_points_with_boundary() {
        let cfg = r#"{"max_error_rate": null, "max_error_rate_increase": 0.05}"#;
        // +5 points exactly (0.07 - 0.02 is 0.05000000000000001 in floats).
        let d = run(&with("error_rate", v(0.02), v(0.07)), cfg);
        assert_eq!(rules(&d, Verdict::Rollback), Vec::<&str>::new(), "{d:#?}");
        assert!(rules(&d, Verdict::Go).contains(&RULE_ERROR_RATE_INCREASE));
        let d = run(&with("error_rate", v(0.02), v(0.0701)), cfg);
        assert_rollback(&d, RULE_ERROR_RATE_INCREASE);
        let e = finding(&d, RULE_ERROR_RATE_INCREASE, Verdict::Rollback)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(e.observed, "+5.01 points (7.01% vs 2.00% baseline)");
        assert_eq!(e.expected, "<= +5.00 points");
        // Below the increase but above the baseline: not a success yet.
        let d = run(&with("error_rate", v(0.02), v(0.03)), cfg);
        assert_hold(&d, RULE_INCONCLUSIVE);
    }

    #[test]
    fn error_rate_success_criterion() {
        // Equal to the baseline is a success.
        let d = run(&with("error_rate", v(0.003), v(0.003)), "{}");
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
        // Above the baseline, below the ceiling: hold, with evidence.
        let d = run(&with("error_rate", v(0.003), v(0.004)), "{}");
        assert_hold(&d, RULE_INCONCLUSIVE);
        let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
        assert!(f.message.contains("error_rate"), "{}", f.message);
        let e = f.evidence.clone().unwrap();
        assert_eq!(e.observed, "0.40% (1.33x baseline 0.30%)");
        assert_eq!(e.expected, "<= 0.30% (1.00x baseline)");
        // A looser success ratio accepts it.
        let d = run(
            &with("error_rate", v(0.003), v(0.004)),
            r#"{"success_max_error_ratio": 1.5}"#,
        );
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
    }

    #[test]
    fn zero_error_baseline_holds_below_the_ceiling_and_rolls_back_above_it() {
        // The stable version has no errors, the canary has 1%: below the 2%
        // ceiling, so no rollback, but "error rate <= baseline" is not met.
        let d = run(&with("error_rate", v(0.0), v(0.01)), "{}");
        assert_hold(&d, RULE_INCONCLUSIVE);
        let f = finding(&d, RULE_ERROR_RATE, Verdict::Go);
        assert!(f.message.contains("not meaningful"), "{}", f.message);
        assert_rollback(
            &run(&with("error_rate", v(0.0), v(0.03)), "{}"),
            RULE_ERROR_RATE,
        );
        // No ceiling: still not a success.
        let d = run(
            &with("error_rate", v(0.0), v(0.01)),
            r#"{"max_error_rate": null}"#,
        );
        assert_hold(&d, RULE_INCONCLUSIVE);
        // 0 against 0 is no change.
        assert_eq!(
            run(&with("error_rate", v(0.0), v(0.0)), "{}").verdict,
            Verdict::Go
        );
    }

    #[test]
    fn latency_rollback_boundary_and_success_vs_inconclusive() {
        // Exactly 2.0x passes the rollback limit (but is no success).
        let d = run(&with(P95, v(0.25), v(0.5)), "{}");
        assert_hold(&d, RULE_INCONCLUSIVE);
        assert!(rules(&d, Verdict::Go).contains(&RULE_LATENCY));
        // Just above 2.0x rolls back, naming the metric.
        let d = run(&with(P95, v(0.25), v(0.5001)), "{}");
        assert_rollback(&d, RULE_LATENCY);
        // 1.05x: success.
        let d = run(&with(P95, v(0.2), v(0.21)), "{}");
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
        assert!(rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
        // Exactly 1.10x is within 10%.
        assert_eq!(run(&with(P95, v(0.2), v(0.22)), "{}").verdict, Verdict::Go);
        // 1.5x: hold, saying which metric and by how much.
        let d = run(&with(P95, v(0.2), v(0.3)), "{}");
        assert_hold(&d, RULE_INCONCLUSIVE);
        let f = finding(&d, RULE_INCONCLUSIVE, Verdict::Hold);
        assert!(f.message.contains(P95), "{}", f.message);
        let e = f.evidence.clone().unwrap();
        assert_eq!(e.observed, "1.50x (300 ms vs 200 ms baseline)");
        assert_eq!(e.expected, "<= 1.10x baseline");
        // 2.5x: rollback, with evidence in human units.
        let d = run(&with(P95, v(0.25), v(0.625)), "{}");
        assert_rollback(&d, RULE_LATENCY);
        let f = finding(&d, RULE_LATENCY, Verdict::Rollback);
        assert!(f.message.contains(P95), "{}", f.message);
        let e = f.evidence.clone().unwrap();
        assert_eq!(e.observed, "2.50x (625 ms vs 250 ms baseline)");
        assert_eq!(e.expected, "<= 2.00x baseline");
        // No success/inconclusive noise next to a rollback.
        assert!(rules(&d, Verdict::Hold).is_empty(), "{d:#?}");
    }

    #[test]
    fn latency_one_rollback_finding_per_metric() {
        let mut s = healthy();
        set(&mut s, P95, v(0.2), v(0.5));
        set(&mut s, P99, v(0.4), v(1.0));
        let d = run(&s, "{}");
        let rolled: Vec<&Finding> = d
            .findings
            .iter()
            .filter(|f| f.rule == RULE_LATENCY && f.verdict == Verdict::Rollback)
            .collect();
        assert_eq!(rolled.len(), 2);
        assert!(rolled[0].message.contains(P95) && rolled[1].message.contains(P99));
    }

    #[test]
    fn performance_degradation_over_50_percent() {
        let cfg = r#"{"max_latency_ratio": 1.5}"#;
        assert_hold(&run(&with(P95, v(0.2), v(0.3)), cfg), RULE_INCONCLUSIVE);
        assert_rollback(&run(&with(P95, v(0.2), v(0.31)), cfg), RULE_LATENCY);
    }

    #[test]
    fn latency_units() {
        let mut s = healthy();
        s.metrics.retain(|m| m.name != P95);
        s.metrics.push(Metric {
            name: P95.into(),
            unit: Some("ms".into()),
            baseline: v(250.0),
            canary: v(600.0),
        });
        let d = run(&s, "{}");
        let e = finding(&d, RULE_LATENCY, Verdict::Rollback)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(e.observed, "2.40x (600 ms vs 250 ms baseline)");
    }

    #[test]
    fn samples_count_as_their_mean() {
        let samples = |xs: &[f64]| Measurement::Samples(xs.to_vec());
        let d = run(
            &with(P95, samples(&[0.2, 0.2]), samples(&[0.2, 0.22])),
            "{}",
        );
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
        let d = run(&with(P95, samples(&[0.2, 0.2]), samples(&[0.5, 0.7])), "{}");
        assert_rollback(&d, RULE_LATENCY);
        let d = run(&with("error_rate", v(0.01), samples(&[0.01, 0.04])), "{}");
        assert_rollback(&d, RULE_ERROR_RATE);
        // Empty samples are missing data.
        let d = run(&with(P95, v(0.2), samples(&[])), "{}");
        assert_hold(&d, RULE_DATA_MISSING);
    }

    #[test]
    fn every_form_of_missing_data_holds_and_names_the_metric() {
        let forms = [
            Measurement::NoData,
            Measurement::Error("timeout".into()),
            Measurement::Stale(StaleValue {
                value: 0.001,
                age_seconds: 900,
            }),
            v(f64::NAN),
        ];
        for form in forms {
            for name in ["error_rate", P95, P99] {
                for canary_side in [true, false] {
                    let good = if name == "error_rate" {
                        v(0.003)
                    } else {
                        v(0.25)
                    };
                    let s = if canary_side {
                        with(name, good, form.clone())
                    } else {
                        with(name, form.clone(), good)
                    };
                    let d = run(&s, "{}");
                    assert_hold(&d, RULE_DATA_MISSING);
                    let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
                    assert!(f.message.contains(name), "{}", f.message);
                    let reason = form.missing_reason().unwrap();
                    assert!(f.message.contains(&reason), "{} / {reason}", f.message);
                    assert!(!rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
                }
            }
        }
    }

    #[test]
    fn absent_metric_and_zero_latency_baseline_hold() {
        let mut s = healthy();
        s.metrics.retain(|m| m.name != P99);
        let d = run(&s, "{}");
        assert_hold(&d, RULE_DATA_MISSING);
        let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
        assert!(f.message.contains(P99) && f.message.contains("not in the snapshot"));

        let mut s = healthy();
        s.metrics.clear();
        let d = run(&s, "{}");
        assert_hold(&d, RULE_DATA_MISSING);
        assert_eq!(rules(&d, Verdict::Hold).len(), 3, "{d:#?}");

        let d = run(&with(P95, v(0.0), v(0.2)), "{}");
        assert_hold(&d, RULE_DATA_MISSING);
        let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
        assert!(f.message.contains("not meaningful"), "{}", f.message);
    }

    #[test]
    fn prometheus_gap_is_missing_data() {
        let mut s = healthy();
        s.gaps.push(shipgate_sdk::model::Gap {
            source: "prometheus".into(),
            reason: "connection refused".into(),
        });
        let d = run(&s, "{}");
        assert_hold(&d, RULE_DATA_MISSING);
        assert!(!rules(&d, Verdict::Go).contains(&RULE_SUCCESS));
        let f = finding(&d, RULE_DATA_MISSING, Verdict::Hold);
        assert!(f.message.contains("connection refused"), "{}", f.message);
        // A gap for another source is not about the metrics.
        let mut s = healthy();
        s.gaps.push(shipgate_sdk::model::Gap {
            source: "github".into(),
            reason: "rate limited".into(),
        });
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    }

    #[test]
    fn the_prometheus_down_example_holds() {
        let s = snapshot_from_json(
            r#"{
              "deployment": { "service": "checkout", "environment": "production", "version": "2.14.1",
                              "commit": "9c1e4f2a7b", "requested_at": "2026-11-18T14:05:00Z" },
              "metrics": [{ "name": "error_rate",
                            "baseline": { "error": "connection refused" },
                            "canary": { "error": "connection refused" } }],
              "gaps": [{ "source": "prometheus", "reason": "connection refused" }]
            }"#,
        )
        .unwrap();
        let d = run(&s, "{}");
        assert_hold(&d, RULE_DATA_MISSING);
        // No rollout: only this interval counts, 1 < 3.
        let f = finding(&d, RULE_NO_DATA_LIMIT, Verdict::Go);
        let e = f.evidence.clone().unwrap();
        assert_eq!(e.observed, "1 consecutive interval without data");
        assert_eq!(e.expected, "< 3");
    }

    #[test]
    fn breaches_we_can_see_roll_back_even_with_missing_data() {
        let mut s = with("error_rate", Measurement::NoData, v(0.05));
        set(&mut s, P99, v(0.5), Measurement::NoData);
        let d = run(&s, "{}");
        assert_rollback(&d, RULE_ERROR_RATE);
        assert!(rules(&d, Verdict::Hold).contains(&RULE_DATA_MISSING));

        let mut s = with(P95, v(0.2), v(0.9));
        s.gaps.push(shipgate_sdk::model::Gap {
            source: "prometheus".into(),
            reason: "partial".into(),
        });
        assert_rollback(&run(&s, "{}"), RULE_LATENCY);
    }

    #[test]
    fn no_data_limit_counts_trailing_missing_intervals() {
        let missing_now = with(P95, v(0.25), Measurement::NoData);

        // 2 trailing missing + now = 3 → rollback.
        let mut s = missing_now.clone();
        s.rollout.as_mut().unwrap().history = history(&[false, true, true]);
        let d = run(&s, "{}");
        assert_rollback(&d, RULE_NO_DATA_LIMIT);
        let e = finding(&d, RULE_NO_DATA_LIMIT, Verdict::Rollback)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(e.observed, "3 consecutive intervals without data");
        assert_eq!(e.expected, "< 3");

        // An interval with data in between ends the streak: 1 + now = 2 → hold.
        let mut s = missing_now.clone();
        s.rollout.as_mut().unwrap().history = history(&[true, false, true]);
        let d = run(&s, "{}");
        assert_hold(&d, RULE_DATA_MISSING);
        let e = finding(&d, RULE_NO_DATA_LIMIT, Verdict::Go)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(e.observed, "2 consecutive intervals without data");

        // Data present now: no streak, whatever the history says.
        let mut s = healthy();
        s.rollout.as_mut().unwrap().history = history(&[true, true, true]);
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");

        // No rollout: only the current interval counts.
        let mut s = missing_now.clone();
        s.rollout = None;
        assert_hold(&run(&s, "{}"), RULE_DATA_MISSING);
        assert_rollback(
            &run(&s, r#"{"max_intervals_without_data": 1}"#),
            RULE_NO_DATA_LIMIT,
        );
    }

    #[test]
    fn no_rollout_still_judges_the_metrics() {
        let mut s = healthy();
        s.rollout = None;
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);
        set(&mut s, "error_rate", v(0.003), v(0.05));
        assert_rollback(&run(&s, "{}"), RULE_ERROR_RATE);
    }

    #[test]
    fn cpu_and_memory_only_when_set() {
        let mut s = with("cpu_usage", v(0.5), v(0.95));
        set(&mut s, "memory_usage", v(0.5), v(0.95));
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);

        let cfg = r#"{"max_cpu": 0.80, "max_memory": 0.85}"#;
        let d = run(&with("cpu_usage", v(0.5), v(0.80)), cfg);
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
        assert!(rules(&d, Verdict::Go).contains(&RULE_CPU));
        assert!(rules(&d, Verdict::Go).contains(&RULE_MEMORY));
        let d = run(&with("cpu_usage", v(0.5), v(0.81)), cfg);
        assert_rollback(&d, RULE_CPU);
        let e = finding(&d, RULE_CPU, Verdict::Rollback)
            .evidence
            .clone()
            .unwrap();
        assert_eq!(
            (e.observed.as_str(), e.expected.as_str()),
            ("81.00%", "<= 80.00%")
        );
        assert_eq!(
            run(&with("memory_usage", v(0.5), v(0.85)), cfg).verdict,
            Verdict::Go
        );
        assert_rollback(
            &run(&with("memory_usage", v(0.5), v(0.86)), cfg),
            RULE_MEMORY,
        );

        // Required once set; the baseline is not needed for a ceiling.
        assert_hold(
            &run(&with("cpu_usage", v(0.5), Measurement::NoData), cfg),
            RULE_DATA_MISSING,
        );
        assert_eq!(
            run(&with("cpu_usage", Measurement::NoData, v(0.5)), cfg).verdict,
            Verdict::Go
        );
        let mut s = healthy();
        s.metrics.retain(|m| m.name != "memory_usage");
        assert_hold(&run(&s, cfg), RULE_DATA_MISSING);
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);
    }

    fn alert(name: &str, severity: Option<&str>) -> Alert {
        Alert {
            name: name.into(),
            severity: severity.map(Into::into),
            since: None,
            labels: Default::default(),
        }
    }

    #[test]
    fn alerts_with_and_without_matching_severity() {
        let mut s = healthy();
        s.alerts = vec![alert("HighLatency", Some("warning")), alert("Flaky", None)];
        let d = run(&s, "{}");
        assert_eq!(d.verdict, Verdict::Go, "{d:#?}");
        let f = finding(&d, RULE_ALERTS, Verdict::Go);
        assert!(f.message.contains("HighLatency (warning)"), "{}", f.message);

        s.alerts.push(alert("Api5xx", Some("Critical")));
        let d = run(&s, "{}");
        assert_rollback(&d, RULE_ALERTS);
        let f = finding(&d, RULE_ALERTS, Verdict::Rollback);
        assert!(f.message.contains("Api5xx") && !f.message.contains("HighLatency"));

        // An empty list means any alert; the switch turns the rule off.
        let mut s = healthy();
        s.alerts = vec![alert("Flaky", None)];
        assert_rollback(&run(&s, r#"{"alert_severities": []}"#), RULE_ALERTS);
        s.alerts = vec![alert("HighLatency", Some("warning"))];
        assert_rollback(
            &run(&s, r#"{"alert_severities": ["critical", "warning"]}"#),
            RULE_ALERTS,
        );
        s.alerts = vec![alert("Api5xx", Some("critical"))];
        let d = run(&s, r#"{"rollback_on_alerts": false}"#);
        assert_eq!(d.verdict, Verdict::Go);
        assert!(!rules(&d, Verdict::Go).contains(&RULE_ALERTS));
    }

    #[test]
    fn new_critical_error_signatures_roll_back() {
        let sig = |s: &str, new, critical| ErrorSignature {
            signature: s.into(),
            count: 14,
            new,
            critical,
        };
        let mut s = healthy();
        s.error_signatures = vec![
            sig("TimeoutError in cache", true, false),
            sig("OutOfMemory in worker", false, true),
        ];
        assert_eq!(run(&s, "{}").verdict, Verdict::Go);

        s.error_signatures
            .push(sig("NullPointerException at Payment.charge", true, true));
        let d = run(&s, "{}");
        assert_rollback(&d, RULE_NEW_CRITICAL_ERRORS);
        let f = finding(&d, RULE_NEW_CRITICAL_ERRORS, Verdict::Rollback);
        assert!(
            f.message.contains("NullPointerException at Payment.charge")
                && !f.message.contains("TimeoutError"),
            "{}",
            f.message
        );
        let d = run(&s, r#"{"rollback_on_new_critical_errors": false}"#);
        assert_eq!(d.verdict, Verdict::Go);
    }

    #[test]
    fn long_lists_are_shortened() {
        let mut s = healthy();
        s.alerts = (0..8)
            .map(|i| alert(&format!("A{i}"), Some("critical")))
            .collect();
        let f = run(&s, "{}")
            .findings
            .into_iter()
            .find(|f| f.rule == RULE_ALERTS)
            .unwrap();
        assert!(
            f.message.contains("A4 (critical) and 3 more"),
            "{}",
            f.message
        );
    }

    #[test]
    fn decide_is_what_evaluate_returns() {
        let s = with(P95, v(0.2), v(0.3));
        assert_eq!(decide(Stage::Canary, &s, &Config::default()), run(&s, "{}"));
    }

    #[test]
    fn config_errors_name_the_key() {
        let err = |json: &str| shipgate_sdk::parse_config::<Canary>(json).unwrap_err();
        assert!(shipgate_sdk::parse_config::<Canary>("{}").is_ok());
        assert_eq!(
            shipgate_sdk::parse_config::<Canary>("{}").unwrap(),
            Config::default()
        );
        for (json, key) in [
            (r#"{"max_error_rate": -0.1}"#, "max_error_rate"),
            (r#"{"max_error_rate": 1.5}"#, "max_error_rate"),
            (
                r#"{"max_error_rate_increase": 2}"#,
                "max_error_rate_increase",
            ),
            (r#"{"max_cpu": 80}"#, "max_cpu"),
            (r#"{"max_memory": -1}"#, "max_memory"),
            (r#"{"max_latency_ratio": 1.0}"#, "max_latency_ratio"),
            (r#"{"max_latency_ratio": 0.5}"#, "max_latency_ratio"),
            (
                r#"{"success_max_error_ratio": 0.9}"#,
                "success_max_error_ratio",
            ),
            (
                r#"{"success_max_latency_ratio": 0.99}"#,
                "success_max_latency_ratio",
            ),
            (
                r#"{"max_latency_ratio": 1.5, "success_max_latency_ratio": 1.6}"#,
                "success_max_latency_ratio",
            ),
            (
                r#"{"max_intervals_without_data": 0}"#,
                "max_intervals_without_data",
            ),
            (
                r#"{"max_intervals_without_data": -1}"#,
                "max_intervals_without_data",
            ),
            (r#"{"error_rate_metric": ""}"#, "error_rate_metric"),
            (
                r#"{"latency_metrics": ["latency_p95", " "]}"#,
                "latency_metrics[1]",
            ),
            (r#"{"max_cpu": "0.8"}"#, "max_cpu"),
        ] {
            assert_eq!(err(json).key, key, "{json}");
        }
        let e = err(r#"{"max_error_rat": 0.1}"#);
        assert!(e.message.contains("unknown field `max_error_rat`"), "{e}");
        // Boundaries that are accepted.
        for json in [
            r#"{"max_error_rate": 0, "max_cpu": 1, "max_memory": 1}"#,
            r#"{"success_max_error_ratio": 1, "success_max_latency_ratio": 1}"#,
            r#"{"max_latency_ratio": 1.1, "success_max_latency_ratio": 1.1}"#,
            r#"{"max_latency_ratio": null, "success_max_latency_ratio": 3}"#,
            r#"{"max_intervals_without_data": 1}"#,
        ] {
            assert!(shipgate_sdk::parse_config::<Canary>(json).is_ok(), "{json}");
        }
    }

    #[test]
    fn info_names_the_policy() {
        let info = Canary::info();
        assert_eq!(info.name, "canary");
        assert_eq!(info.stages, vec![Stage::Canary]);
        assert!(RULES.iter().all(|r| r.starts_with("canary.")));
    }
}
