//! The rule in plain Rust over a map of the metrics: the floor.

use std::collections::HashMap;

use shipgate_engine::model::Verdict;

use super::{Decide, Engine};
use crate::input::Input;

/// The metrics by name: `(baseline, canary)`.
struct Prepared {
    metrics: HashMap<String, (f64, f64)>,
    required: Vec<String>,
    present: Vec<String>,
}

/// The rule; a metric not in the input holds.
fn decide(input: &Prepared) -> Verdict {
    let (Some(&(error_baseline, error_canary)), Some(&(p95_baseline, p95_canary))) = (
        input.metrics.get("error_rate"),
        input.metrics.get("latency_p95"),
    ) else {
        return Verdict::Hold;
    };
    if error_canary > 0.02 || error_canary > 2.0 * error_baseline {
        Verdict::Rollback
    } else if input.required.iter().any(|r| !input.present.contains(r)) {
        Verdict::NoGo
    } else if p95_canary > 2.0 * p95_baseline {
        Verdict::Hold
    } else {
        Verdict::Go
    }
}

/// Native Rust.
pub struct Native;

impl Engine for Native {
    fn name(&self) -> &'static str {
        "native Rust (HashMap of metrics)"
    }

    fn prepare<'a>(&'a self, input: &Input) -> anyhow::Result<Decide<'a>> {
        let prepared = Prepared {
            metrics: input
                .metrics
                .iter()
                .map(|(n, b, c)| (n.clone(), (*b, *c)))
                .collect(),
            required: input.required.clone(),
            present: input.present.clone(),
        };
        Ok(Box::new(move || {
            Ok(decide(std::hint::black_box(&prepared)))
        }))
    }
}
