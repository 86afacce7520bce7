//! Comparing canary and baseline measurements, explicit about missing data.

use std::fmt;

use crate::Measurement;

/// The ratio of a canary measurement to its baseline, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Ratio {
    /// canary / baseline.
    Value(f64),
    /// The baseline is zero: any canary value above zero is infinitely
    /// worse, and zero over zero is no change. `canary` is the canary value.
    BaselineZero {
        /// The canary's value.
        canary: f64,
    },
    /// The canary has no usable value.
    CanaryMissing(String),
    /// The baseline has no usable value.
    BaselineMissing(String),
}

impl Ratio {
    /// The ratio, if there is one (`None` for missing data and a zero
    /// baseline).
    pub fn value(&self) -> Option<f64> {
        match self {
            Ratio::Value(v) => Some(*v),
            _ => None,
        }
    }

    /// Whether data is missing on either side.
    pub fn is_missing(&self) -> bool {
        matches!(self, Ratio::CanaryMissing(_) | Ratio::BaselineMissing(_))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ratio::Value(v) => write!(f, "{v:.2}x"),
            Ratio::BaselineZero { canary } => write!(f, "baseline is 0, canary is {canary}"),
            Ratio::CanaryMissing(why) => write!(f, "canary data missing: {why}"),
            Ratio::BaselineMissing(why) => write!(f, "baseline data missing: {why}"),
        }
    }
}

/// canary / baseline, explicit about missing data.
pub fn ratio(canary: &Measurement, baseline: &Measurement) -> Ratio {
    let c = match canary.value() {
        Some(c) => c,
        None => return Ratio::CanaryMissing(canary.missing_reason().unwrap_or_default()),
    };
    let b = match baseline.value() {
        Some(b) => b,
        None => return Ratio::BaselineMissing(baseline.missing_reason().unwrap_or_default()),
    };
    if b == 0.0 {
        Ratio::BaselineZero { canary: c }
    } else {
        Ratio::Value(c / b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaleValue;

    #[test]
    fn ratio_is_explicit_about_missing_data() {
        let v = |x| Measurement::Value(x);
        assert_eq!(ratio(&v(0.04), &v(0.02)), Ratio::Value(2.0));
        assert_eq!(
            ratio(&v(0.04), &v(0.0)),
            Ratio::BaselineZero { canary: 0.04 }
        );
        assert_eq!(
            ratio(&Measurement::NoData, &v(0.02)),
            Ratio::CanaryMissing("no data".into())
        );
        let stale = Measurement::Stale(StaleValue {
            value: 0.01,
            age_seconds: 900,
        });
        assert_eq!(
            ratio(&v(0.01), &stale).to_string(),
            "baseline data missing: stale (900s old)"
        );
        assert!(ratio(&Measurement::Error("timeout".into()), &v(1.0)).is_missing());
        assert_eq!(
            ratio(&Measurement::Samples(vec![1.0, 3.0]), &v(1.0)),
            Ratio::Value(2.0)
        );
        assert!(ratio(&v(f64::NAN), &v(1.0)).is_missing());
    }
}
