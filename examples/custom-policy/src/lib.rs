//! An example team policy: roll back when the canary's error rate is more
//! than `max_ratio` times the baseline's.
//!
//! This is what a team writes for a rule of its own with `shipgate-sdk`: a
//! config type, its rules declared once with `rules!`, one `impl Policy`, one
//! `export_policy!` line, and unit tests that run natively with
//! `cargo test -p error-ratio-policy`.

use serde::Deserialize;
use shipgate_sdk::prelude::*;

/// The `config` table of this policy in `shipgate.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The metric to compare (`error_rate`).
    pub metric: String,
    /// Roll back above this canary / baseline ratio.
    pub max_ratio: f64,
    /// Below this canary error rate the ratio is noise and never triggers
    /// (0.1% by default): 0.02% against 0.005% is 4x, and harmless.
    pub min_error_rate: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            metric: "error_rate".into(),
            max_ratio: 2.0,
            min_error_rate: 0.001,
        }
    }
}

/// The policy.
#[derive(Debug)]
pub struct ErrorRatio;

shipgate_sdk::rules! {
    pub RULE = "error-ratio.canary-vs-baseline"
        => "the canary's error rate is at least min_error_rate and more than max_ratio times \
            the baseline's, or the baseline's is 0 (rollback; go otherwise)",
    pub RULE_MISSING = "error-ratio.data-missing"
        => "the metric is not in the snapshot, or a side has no usable value (hold)",
}

impl Policy for ErrorRatio {
    type Config = Config;

    fn info() -> Info {
        Info::new(
            "error-ratio",
            "roll back when the canary's error rate is more than max_ratio times the baseline's",
        )
        .stages(&[Stage::Canary])
        .reads(&[Section::Metrics])
        .rules(RULES)
    }

    fn check_config(config: &Config) -> Result<(), ConfigError> {
        if config.max_ratio.is_nan() || config.max_ratio <= 1.0 {
            return Err(ConfigError::new(
                "max_ratio",
                format!("must be greater than 1, got {}", config.max_ratio),
            ));
        }
        if !(0.0..1.0).contains(&config.min_error_rate) {
            return Err(ConfigError::new(
                "min_error_rate",
                format!("must be a rate in [0, 1), got {}", config.min_error_rate),
            ));
        }
        Ok(())
    }

    fn evaluate(_stage: Stage, snapshot: &Snapshot, config: &Config) -> Result<Decision, String> {
        Ok(decide(snapshot, config))
    }
}

shipgate_sdk::export_policy!(ErrorRatio);

/// The rule itself, as a plain function (benchmarked natively against the
/// component).
pub fn decide(snapshot: &Snapshot, config: &Config) -> Decision {
    let Some(metric) = snapshot.metric(&config.metric) else {
        return Decision::from_findings(vec![Finding::hold(
            RULE_MISSING,
            format!("metric `{}` is not in the snapshot", config.metric),
        )]);
    };
    let expected = format!("<= {}x baseline", config.max_ratio);
    let finding = match ratio(&metric.canary, &metric.baseline) {
        r if r.is_missing() => Finding::hold(RULE_MISSING, format!("{}: {r}", config.metric)),
        _ if metric.canary.value().unwrap_or(0.0) < config.min_error_rate => Finding::pass(
            RULE,
            format!("canary {} is below the noise floor", config.metric),
        )
        .evidence(
            percent(metric.canary.value().unwrap_or(0.0)),
            format!("< {} floor", percent(config.min_error_rate)),
        ),
        Ratio::Value(r) if r > config.max_ratio => Finding::rollback(
            RULE,
            format!(
                "canary {} is {r:.2}x the baseline's (limit {}x)",
                config.metric, config.max_ratio
            ),
        )
        .evidence(format!("{r:.2}x"), expected),
        Ratio::Value(r) => Finding::pass(
            RULE,
            format!("canary {} is {r:.2}x the baseline's", config.metric),
        )
        .evidence(format!("{r:.2}x"), expected),
        Ratio::BaselineZero { canary } => Finding::rollback(
            RULE,
            format!("baseline has no errors, canary has {}", percent(canary)),
        )
        .evidence(percent(canary), "0% (baseline)"),
        other => Finding::hold(RULE_MISSING, other.to_string()),
    };
    Decision::from_findings(vec![finding])
}

fn percent(rate: f64) -> String {
    format!("{:.2}%", rate * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_sdk::testing::{evaluate, snapshot_from_json};

    fn snapshot(baseline: &str, canary: &str) -> Snapshot {
        snapshot_from_json(&format!(
            r#"{{
              "deployment": {{ "service": "checkout", "environment": "production", "version": "2.0.0",
                              "commit": "abc123", "requested_at": "2026-11-20T10:00:00Z" }},
              "metrics": [{{ "name": "error_rate", "baseline": {baseline}, "canary": {canary} }}]
            }}"#
        ))
        .unwrap()
    }

    fn verdict(baseline: &str, canary: &str, config: &str) -> Verdict {
        evaluate::<ErrorRatio>(Stage::Canary, &snapshot(baseline, canary), config)
            .unwrap()
            .verdict
    }

    #[test]
    fn rolls_back_above_the_ratio_and_not_at_it() {
        let b = r#"{"value": 0.01}"#;
        assert_eq!(verdict(b, r#"{"value": 0.021}"#, "{}"), Verdict::Rollback);
        assert_eq!(verdict(b, r#"{"value": 0.02}"#, "{}"), Verdict::Go);
        assert_eq!(
            verdict(b, r#"{"value": 0.03}"#, r#"{"max_ratio": 3.5}"#),
            Verdict::Go
        );
    }

    #[test]
    fn missing_data_holds_never_goes() {
        let b = r#"{"value": 0.01}"#;
        assert_eq!(verdict(b, r#""no-data""#, "{}"), Verdict::Hold);
        assert_eq!(verdict(r#"{"error": "timeout"}"#, b, "{}"), Verdict::Hold);
        assert_eq!(
            verdict(b, r#"{"stale": {"value": 0.01, "age_seconds": 900}}"#, "{}"),
            Verdict::Hold
        );
        let s = snapshot_from_json(
            r#"{"deployment": { "service": "s", "environment": "e", "version": "v", "commit": "c",
                "requested_at": "2026-11-20T10:00:00Z" }}"#,
        )
        .unwrap();
        let d = evaluate::<ErrorRatio>(Stage::Canary, &s, "{}").unwrap();
        assert_eq!(d.verdict, Verdict::Hold);
        assert_eq!(d.findings[0].rule, RULE_MISSING);
    }

    #[test]
    fn noise_floor_and_zero_baseline() {
        assert_eq!(
            verdict(r#"{"value": 0.0001}"#, r#"{"value": 0.0005}"#, "{}"),
            Verdict::Go
        );
        assert_eq!(
            verdict(r#"{"value": 0.0}"#, r#"{"value": 0.05}"#, "{}"),
            Verdict::Rollback
        );
    }

    #[test]
    fn info_declares_its_rules() {
        shipgate_sdk::testing::check_rules::<ErrorRatio>().unwrap();
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = shipgate_sdk::parse_config::<ErrorRatio>(r#"{"max_ratio": 0.5}"#).unwrap_err();
        assert_eq!(e.key, "max_ratio");
        let e = shipgate_sdk::parse_config::<ErrorRatio>(r#"{"max_ratoi": 3}"#).unwrap_err();
        assert!(e.message.contains("unknown field `max_ratoi`"), "{e}");
        let e = shipgate_sdk::parse_config::<ErrorRatio>(r#"{"max_ratio": "2"}"#).unwrap_err();
        assert_eq!(e.key, "max_ratio");
    }
}
