//! The race's canary rule as a Shipgate policy, written with the guest SDK
//! the way a team writes one (`examples/custom-policy`): the race builds it
//! to a component and asks it in a fresh sandbox per evaluation, and also
//! calls it natively to show what the sandbox costs.
//!
//! The rule (the core of the built-in `canary` policy, and of every other
//! engine in the race):
//!
//! - roll back when the canary's `error_rate` is above 2% or above 2x the
//!   baseline's;
//! - hold when the canary's `latency_p95` is above 2x the baseline's;
//! - no-go when a variable the code declares as required is absent from the
//!   target environment;
//! - go otherwise.
//!
//! The strictest verdict wins (`go < hold < no-go < rollback`). Missing data
//! (a metric or the environment section not in the snapshot, a measurement
//! without a number) holds: never a silent go.

use serde::Deserialize;
use shipgate_sdk::prelude::*;

/// The thresholds; the defaults are the race's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Roll back above this canary error rate (`0.02`).
    pub max_error_rate: f64,
    /// Roll back above this multiple of the baseline's error rate (`2.0`).
    pub max_error_ratio: f64,
    /// Hold above this multiple of the baseline's p95 latency (`2.0`).
    pub max_latency_ratio: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_error_rate: 0.02,
            max_error_ratio: 2.0,
            max_latency_ratio: 2.0,
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct RaceCanary;

shipgate_sdk::rules! {
    pub RULE_ERROR_RATE = "race.error-rate"
        => "the canary's error rate is above max_error_rate or above max_error_ratio times \
            the baseline's (rollback)",
    pub RULE_LATENCY = "race.latency"
        => "the canary's p95 latency is above max_latency_ratio times the baseline's (hold)",
    pub RULE_ENV = "race.env-missing"
        => "a required environment variable is absent from the target (no-go)",
    pub RULE_MISSING = "race.data-missing"
        => "a metric or the environment section has no usable data (hold)",
}

/// The error-rate metric.
pub const ERROR_RATE: &str = "error_rate";
/// The latency metric.
pub const LATENCY_P95: &str = "latency_p95";

impl Policy for RaceCanary {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "race",
            "the peer race's canary rule: error-rate ceiling and ratio, p95 ratio, missing env names",
        )
        .stages(&[Stage::Canary])
        .reads(&[Section::Metrics, Section::Environment])
        .rules(RULES)
    }

    fn evaluate(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(snapshot, config))
    }
}

shipgate_sdk::export_policy!(RaceCanary);

/// The canary and baseline numbers of metric `name`, or why there are none.
fn values(snapshot: &Snapshot, name: &str) -> Result<(f64, f64), String> {
    let metric = snapshot
        .metric(name)
        .ok_or_else(|| format!("metric `{name}` is not in the snapshot"))?;
    match (metric.canary.value(), metric.baseline.value()) {
        (Some(c), Some(b)) => Ok((c, b)),
        _ => Err(format!("metric `{name}` has no usable value")),
    }
}

/// The rule, as a plain function over the snapshot.
pub fn decide(snapshot: &Snapshot, config: &Config) -> Decision {
    let mut findings = Vec::new();
    match values(snapshot, ERROR_RATE) {
        Ok((canary, baseline))
            if canary > config.max_error_rate || canary > config.max_error_ratio * baseline =>
        {
            findings.push(Finding::rollback(
                RULE_ERROR_RATE,
                format!("canary error rate {canary} (baseline {baseline})"),
            ));
        }
        Ok(_) => {}
        Err(why) => findings.push(Finding::hold(RULE_MISSING, why)),
    }
    match values(snapshot, LATENCY_P95) {
        Ok((canary, baseline)) if canary > config.max_latency_ratio * baseline => {
            findings.push(Finding::hold(
                RULE_LATENCY,
                format!("canary p95 {canary} s (baseline {baseline} s)"),
            ));
        }
        Ok(_) => {}
        Err(why) => findings.push(Finding::hold(RULE_MISSING, why)),
    }
    match &snapshot.environment {
        Some(env) => {
            if let Some(absent) = env
                .declared
                .iter()
                .find(|v| v.required && !env.is_present(&v.name))
            {
                findings.push(Finding::no_go(
                    RULE_ENV,
                    format!("`{}` is required and absent", absent.name),
                ));
            }
        }
        None => findings.push(Finding::hold(
            RULE_MISSING,
            "the environment section was not collected",
        )),
    }
    Decision::from_findings(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_declares_its_rules() {
        shipgate_sdk::testing::check_rules::<RaceCanary>().unwrap();
    }
}
