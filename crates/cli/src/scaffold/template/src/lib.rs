//! `{{name}}`: a Shipgate deployment-gating policy.
//!
//! A policy is a pure function from a deployment snapshot to a decision:
//! `go`, `hold`, `no-go` or `rollback`. The host (`shipgate`) gathers every
//! fact first (git, CI, metrics, the clock) and passes them in the
//! [`Snapshot`]; the policy imports nothing, so the same snapshot always gives
//! the same decision, and a decision can be replayed and tested.
//!
//! This crate compiles twice: natively, where `cargo test` runs the unit
//! tests at the bottom of this file, and to a WebAssembly component
//! (`shipgate build`), which the host loads in a sandbox.
//!
//! The parts, in the order a policy is read:
//!
//! - `rules!`: every rule the policy can report, each declared once.
//! - [`Config`]: the policy's settings, the `[policies.config]` table of its
//!   entry in `shipgate.toml`.
//! - [`{{Type}}`] and its [`Policy`] impl: what the policy is
//!   ([`Policy::info`]), which settings it accepts ([`Policy::check_config`])
//!   and the rule itself ([`Policy::evaluate`]).
//! - `export_policy!`: makes the type the component's entry point (and
//!   reports this crate's version as the policy's).
//! - `cases/`: saved snapshots with their reviewed decisions, run by
//!   `shipgate test`.
//!
//! The sample rule is the canary check most playbooks start with: roll back
//! when the canary's error rate is above 2%, and hold (never go) when the
//! error rate is not measured. Change it into your own.

use serde::Deserialize;
use shipgate_sdk::prelude::*;

// Every finding carries a rule id. Each rule is declared here once: the
// constant for its id, the id (it starts with the policy's name, so a report
// says whose finding it is) and what makes it fire. The macro also defines
// `RULES`, the whole list, which `info()` passes on: `shipgate test` lists
// the declared rules that no case made fire, and the native tests refuse a
// finding whose rule is not declared here.
shipgate_sdk::rules! {
    /// The rule that compares the canary's error rate with the ceiling.
    pub RULE_ERROR_RATE = "{{name}}.error-rate"
        => "the canary's error_rate is above max_error_rate (rollback; go within it)",
    /// The rule that fires when the error rate is not measured.
    pub RULE_NO_DATA = "{{name}}.no-data"
        => "error_rate is not in the snapshot, or the canary's has no usable value (hold)",
}

/// The metric the rule reads, by the name the host gives it in the snapshot
/// (the fraction of requests that failed: 0.02 is 2%).
pub const METRIC: &str = "error_rate";

/// The policy's settings: the `[policies.config]` table of its entry in
/// `shipgate.toml`, which the host passes in as JSON.
///
/// `deny_unknown_fields` turns a misspelt key into an error when shipgate
/// loads its configuration, instead of a setting that is silently ignored;
/// `default` fills every key left out from [`Config::default`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Roll back when the canary's error rate is above this fraction of
    /// requests (0.02 = 2%).
    pub max_error_rate: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // The playbooks' rollback trigger: "error rate > 2%".
            max_error_rate: 0.02,
        }
    }
}

/// The policy. It holds no state: everything it knows is in the snapshot and
/// the config it is given.
#[derive(Debug)]
pub struct {{Type}};

impl Policy for {{Type}} {
    type Config = Config;

    /// Who the policy is: its name, the stages it answers, the snapshot
    /// sections it reads, and every rule it can report (`RULES`, from
    /// `rules!`). Its version is this crate's.
    fn info() -> Info {
        Info::new(
            "{{name}}",
            "roll back when the canary's error rate is above max_error_rate",
        )
        .stages(&[Stage::Canary])
        .reads(&[Section::Metrics])
        .rules(RULES)
    }

    /// Checks what the config's type cannot say. Runs when shipgate loads its
    /// configuration, so a bad value is an error before any deploy is judged.
    fn check_config(config: &Config) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&config.max_error_rate) {
            return Err(ConfigError::new(
                "max_error_rate",
                format!(
                    "must be a fraction between 0 and 1 (0.02 = 2%), got {}",
                    config.max_error_rate
                ),
            ));
        }
        Ok(())
    }

    /// The rule. The decision's verdict is the strictest of its findings'.
    ///
    /// Return `Err` only when the policy cannot decide at all. Missing data is
    /// not an error: say what it means with a finding (here: hold).
    fn evaluate(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(Decision::from_findings(vec![error_rate(snapshot, config)]))
    }
}

// The component's entry point: on wasm32 this implements Shipgate's contract
// with `{{Type}}`; natively it expands to nothing.
shipgate_sdk::export_policy!({{Type}});

/// Rollback above the ceiling, go within it, hold without a number.
fn error_rate(snapshot: &Snapshot, config: &Config) -> Finding {
    let max = percent(config.max_error_rate);
    let ceiling = format!("<= {max}");
    let Some(metric) = snapshot.metric(METRIC) else {
        return Finding::hold(
            RULE_NO_DATA,
            format!("{METRIC} is not in the snapshot: the canary's health is unknown"),
        )
        .evidence("not collected", ceiling)
        .metric(METRIC);
    };
    // A measurement may be a value, samples, no data, an error or stale;
    // `value()` is a usable number or `None`, and `missing_reason()` says why.
    let Some(canary) = metric.canary.value() else {
        let why = metric.canary.missing_reason().unwrap_or_default();
        return Finding::hold(
            RULE_NO_DATA,
            format!("canary {METRIC} has no usable value ({why}): the canary's health is unknown"),
        )
        .evidence(why, ceiling)
        .metric(METRIC);
    };
    let baseline = match metric.baseline.value() {
        Some(b) => format!(" (baseline {})", percent(b)),
        None => String::new(),
    };
    let observed = percent(canary);
    let finding = if canary > config.max_error_rate {
        Finding::rollback(
            RULE_ERROR_RATE,
            format!("canary {METRIC} {observed} is above the {max} ceiling{baseline}"),
        )
    } else {
        Finding::pass(
            RULE_ERROR_RATE,
            format!("canary {METRIC} {observed} is within the {max} ceiling{baseline}"),
        )
    };
    finding.evidence(observed, ceiling).metric(METRIC)
}

/// A fraction as a percentage: 0.061 → `6.10%`.
fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

/// Native unit tests: `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use shipgate_sdk::testing::{evaluate, snapshot_from_json};

    /// Asks the policy about a canary, as the host does: `config` is the
    /// config table as JSON, parsed and checked first.
    fn decide(snapshot: &Snapshot, config: &str) -> Result<Decision, String> {
        evaluate::<{{Type}}>(Stage::Canary, snapshot, config)
    }

    /// A canary snapshot whose `error_rate` has these two measurements:
    /// `{"value": 0.01}`, `"no-data"`, `{"error": "timeout"}`, ...
    fn canary(baseline: Value, canary: Value) -> Snapshot {
        let json = json!({
            "deployment": {
                "service": "checkout", "environment": "production", "version": "2.15.0",
                "commit": "4be1c9d0a2", "requested_at": "2026-11-18T14:05:00Z"
            },
            "rollout": { "phase": 0, "traffic_percent": 10 },
            "metrics": [{ "name": METRIC, "baseline": baseline, "canary": canary }]
        });
        snapshot_from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn an_error_spike_rolls_back() {
        // The snapshot of the case in `cases/`: 6.1% errors against 0.4%.
        let json = include_str!("../cases/snapshots/error-spike.json");
        let decision = decide(&snapshot_from_json(json).unwrap(), "{}").unwrap();
        assert_eq!(decision.verdict, Verdict::Rollback);
        let finding = &decision.findings[0];
        assert_eq!(finding.rule, RULE_ERROR_RATE);
        assert_eq!(finding.metric.as_deref(), Some(METRIC));
        let evidence = finding.evidence.as_ref().unwrap();
        assert_eq!(evidence.observed, "6.10%");
        assert_eq!(evidence.expected, "<= 2.00%");
    }

    #[test]
    fn a_healthy_canary_goes() {
        let baseline = json!({"value": 0.004});
        let healthy = canary(baseline.clone(), json!({"value": 0.005}));
        assert_eq!(decide(&healthy, "{}").unwrap().verdict, Verdict::Go);
        // The ceiling itself is within it.
        let at_ceiling = canary(baseline.clone(), json!({"value": 0.02}));
        assert_eq!(decide(&at_ceiling, "{}").unwrap().verdict, Verdict::Go);
        // A higher ceiling lets the spike through.
        let spike = canary(baseline, json!({"value": 0.061}));
        let config = r#"{"max_error_rate": 0.1}"#;
        assert_eq!(decide(&spike, config).unwrap().verdict, Verdict::Go);
    }

    #[test]
    fn missing_data_holds_never_goes() {
        let baseline = json!({"value": 0.004});
        for missing in [
            json!("no-data"),
            json!({"error": "timeout"}),
            json!({"stale": {"value": 0.001, "age_seconds": 900}}),
        ] {
            let decision = decide(&canary(baseline.clone(), missing.clone()), "{}").unwrap();
            assert_eq!(decision.verdict, Verdict::Hold, "{missing}");
            assert_eq!(decision.findings[0].rule, RULE_NO_DATA, "{missing}");
        }
        // No error_rate metric at all.
        let mut snapshot = canary(baseline.clone(), baseline);
        snapshot.metrics.clear();
        let decision = decide(&snapshot, "{}").unwrap();
        assert_eq!(decision.verdict, Verdict::Hold);
        assert_eq!(decision.findings[0].rule, RULE_NO_DATA);
    }

    #[test]
    fn every_rule_is_declared_once_and_named_for_the_policy() {
        shipgate_sdk::testing::check_rules::<{{Type}}>().unwrap();
    }

    #[test]
    fn a_bad_config_is_rejected() {
        let snapshot = canary(json!({"value": 0.004}), json!({"value": 0.005}));
        let out_of_range = "key `max_error_rate`: must be a fraction between 0 and 1";
        for (config, error) in [
            (json!({"max_error_rate": 2}), out_of_range),
            (json!({"max_error_rate": -0.1}), out_of_range),
            (
                json!({"max_error_rate": "2%"}),
                "key `max_error_rate`: invalid type",
            ),
            (
                json!({"max_errror_rate": 0.02}),
                "unknown field `max_errror_rate`",
            ),
        ] {
            let got = decide(&snapshot, &config.to_string()).unwrap_err();
            assert!(got.contains(error), "{config}: {got}");
        }
    }
}
