//! Values a snapshot cannot hold: checked when a snapshot is loaded from a
//! file, and by the host's sources before a value they read goes into one.
//!
//! JSON's shape is checked by serde; these are the facts that parse but
//! cannot be true, and that a policy would otherwise read as data: the same
//! metric twice (which one would a policy see?), a negative error rate or
//! latency, an error rate above 1, a percentage above 100.
//!
//! ```
//! use shipgate_model::{Measurement, Metric};
//!
//! let metric = Metric {
//!     name: "error_rate".into(),
//!     unit: Some("ratio".into()),
//!     baseline: Measurement::Value(0.01),
//!     canary: Measurement::Value(-0.5),
//! };
//! assert_eq!(
//!     metric.value_problem(-0.5).as_deref(),
//!     Some("`-0.5` is negative, which `error_rate` cannot be")
//! );
//! assert_eq!(metric.value_problem(0.02), None);
//! ```

use std::fmt;

use crate::{Measurement, Metric, Snapshot};

/// The names of the host's standard metrics, in the order the collector
/// asks for them: what a policy can expect by name without custom queries.
/// None of them can be negative, whatever its unit says.
pub const STANDARD_METRICS: [&str; 7] = [
    "error_rate",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "request_rate",
    "cpu_usage",
    "memory_usage",
];

/// The units whose values cannot be negative.
const NON_NEGATIVE_UNITS: &[&str] = &["ratio", "seconds", "percent", "requests/s", "bytes"];

/// One value of a snapshot that cannot be true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidField {
    /// Where: a path such as `metrics[1].canary` or `ci.coverage_percent`.
    pub field: String,
    /// What is wrong, lower case, the value in backticks.
    pub message: String,
}

impl fmt::Display for InvalidField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.message)
    }
}

impl Metric {
    /// Why `value`, read for this metric, cannot be true; `None` when it
    /// can. Non-finite values are not judged here (they are missing data).
    pub fn value_problem(&self, value: f64) -> Option<String> {
        if !value.is_finite() {
            return None;
        }
        let unit = self.unit.as_deref();
        let non_negative = STANDARD_METRICS.contains(&self.name.as_str())
            || unit.is_some_and(|u| NON_NEGATIVE_UNITS.contains(&u));
        if value < 0.0 && non_negative {
            return Some(format!(
                "`{value}` is negative, which `{}` cannot be",
                self.name
            ));
        }
        let is_error_rate = self.name == "error_rate" || self.name.ends_with("_error_rate");
        if is_error_rate && matches!(unit, None | Some("ratio")) && value > 1.0 {
            return Some(format!(
                "`{value}` is above 1, which `{}` (a ratio from 0 to 1) cannot be",
                self.name
            ));
        }
        if unit == Some("percent") && value > 100.0 {
            return Some(format!(
                "`{value}` is above 100, which `{}` (a percentage) cannot be",
                self.name
            ));
        }
        None
    }

    /// The first value of `measurement` that [`Metric::value_problem`]
    /// refuses, with why.
    pub fn measurement_problem(&self, measurement: &Measurement) -> Option<String> {
        match measurement {
            Measurement::Value(v) => self.value_problem(*v),
            Measurement::Samples(samples) => samples.iter().find_map(|v| self.value_problem(*v)),
            Measurement::Stale(stale) => self.value_problem(stale.value),
            Measurement::NoData | Measurement::Error(_) => None,
        }
    }
}

/// Why a line-coverage percentage cannot be true; `None` when it can.
pub fn coverage_problem(percent: f64) -> Option<String> {
    (!(0.0..=100.0).contains(&percent))
        .then(|| format!("`{percent}` is not a percentage (0 to 100)"))
}

impl Snapshot {
    /// Every value of the snapshot that cannot be true, in document order:
    /// a metric listed twice, a metric value its name or unit rules out
    /// ([`Metric::value_problem`]), a coverage that is not a percentage, a
    /// traffic share above 100 %. Empty when there is none.
    pub fn invalid_fields(&self) -> Vec<InvalidField> {
        let mut invalid = Vec::new();
        let mut push = |field: String, message: String| {
            invalid.push(InvalidField { field, message });
        };
        if let Some(ci) = &self.ci
            && let Some(problem) = ci.coverage_percent.and_then(coverage_problem)
        {
            push("ci.coverage_percent".into(), problem);
        }
        if let Some(rollout) = &self.rollout {
            if rollout.traffic_percent > 100 {
                push(
                    "rollout.traffic_percent".into(),
                    format!("`{}` is above 100 %", rollout.traffic_percent),
                );
            }
            for (i, step) in rollout.steps.iter().enumerate() {
                if step.traffic_percent > 100 {
                    push(
                        format!("rollout.steps[{i}].traffic_percent"),
                        format!("`{}` is above 100 %", step.traffic_percent),
                    );
                }
            }
        }
        for (i, metric) in self.metrics.iter().enumerate() {
            if let Some(first) = self.metrics[..i].iter().position(|m| m.name == metric.name) {
                push(
                    format!("metrics[{i}].name"),
                    format!(
                        "metric `{}` is listed twice (first as `metrics[{first}]`); a policy would see only one",
                        metric.name
                    ),
                );
            }
            for (track, measurement) in [("baseline", &metric.baseline), ("canary", &metric.canary)]
            {
                if let Some(problem) = metric.measurement_problem(measurement) {
                    push(format!("metrics[{i}].{track}"), problem);
                }
            }
        }
        invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ci, Deployment, StaleValue, Timestamp};

    fn metric(
        name: &str,
        unit: Option<&str>,
        baseline: Measurement,
        canary: Measurement,
    ) -> Metric {
        Metric {
            name: name.into(),
            unit: unit.map(Into::into),
            baseline,
            canary,
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot::new(Deployment {
            service: "s".into(),
            environment: "production".into(),
            version: "1".into(),
            commit: "c".into(),
            base_commit: None,
            pull_request: None,
            kind: Default::default(),
            severity: None,
            requested_at: Timestamp(0),
            utc_offset_minutes: 0,
            actor: None,
        })
    }

    #[test]
    fn a_valid_snapshot_has_no_invalid_field() {
        let mut s = snapshot();
        s.metrics.push(metric(
            "error_rate",
            Some("ratio"),
            Measurement::Value(0.0),
            Measurement::Samples(vec![0.5, 1.0, f64::NAN]),
        ));
        s.metrics.push(metric(
            "delta",
            None,
            Measurement::Value(-3.0),
            Measurement::NoData,
        ));
        s.ci = Some(Ci {
            coverage_percent: Some(100.0),
            ..Ci::default()
        });
        assert_eq!(s.invalid_fields(), []);
    }

    #[test]
    fn impossible_values_are_named_by_field() {
        let mut s = snapshot();
        s.metrics.push(metric(
            "error_rate",
            Some("ratio"),
            Measurement::Value(-0.1),
            Measurement::Value(1.5),
        ));
        s.metrics.push(metric(
            "latency_p95",
            Some("seconds"),
            Measurement::Value(0.2),
            Measurement::Stale(StaleValue {
                value: -1.0,
                age_seconds: 300,
            }),
        ));
        s.metrics.push(metric(
            "error_rate",
            Some("ratio"),
            Measurement::Value(0.9),
            Measurement::Value(0.9),
        ));
        s.ci = Some(Ci {
            coverage_percent: Some(104.5),
            ..Ci::default()
        });
        let shown: Vec<String> = s.invalid_fields().iter().map(|f| f.to_string()).collect();
        assert_eq!(
            shown,
            [
                "`ci.coverage_percent`: `104.5` is not a percentage (0 to 100)",
                "`metrics[0].baseline`: `-0.1` is negative, which `error_rate` cannot be",
                "`metrics[0].canary`: `1.5` is above 1, which `error_rate` (a ratio from 0 to 1) cannot be",
                "`metrics[1].canary`: `-1` is negative, which `latency_p95` cannot be",
                "`metrics[2].name`: metric `error_rate` is listed twice (first as `metrics[0]`); a policy would see only one",
            ]
        );
    }

    #[test]
    fn a_percent_unit_is_capped_at_100() {
        let m = metric(
            "saturation",
            Some("percent"),
            Measurement::NoData,
            Measurement::NoData,
        );
        assert!(m.value_problem(100.5).is_some());
        assert!(m.value_problem(99.0).is_none());
        assert!(coverage_problem(-0.01).is_some());
    }
}
