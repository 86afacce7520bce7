//! The timing loop: no criterion, a well-warmed median of interleaved
//! samples, so that every engine sees the same machine.
//!
//! 1. Warm-up: each engine decides for [`Plan::warmup`]; its mean time per
//!    decision sets its batch, the number of decisions that take about
//!    [`Plan::batch`].
//! 2. Rounds: each round times one batch of every engine, back to back,
//!    starting one engine further each round; a sample is a batch's time
//!    divided by its size.
//! 3. Each engine's median sample is its time; the 10th and 90th percentiles
//!    show the spread (a wide one says the machine was busy).

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::engines::Decide;

/// How long and how often to measure.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Warm-up per engine.
    pub warmup: Duration,
    /// The time one sample aims at.
    pub batch: Duration,
    /// Samples per engine.
    pub rounds: usize,
}

/// One engine's result, in nanoseconds per decision.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// The median sample.
    pub median: f64,
    /// The 10th percentile.
    pub p10: f64,
    /// The 90th percentile.
    pub p90: f64,
}

/// Times `iterations` decisions, in nanoseconds per decision.
fn sample(decide: &mut Decide<'_>, iterations: u64) -> anyhow::Result<f64> {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(decide()?);
    }
    Ok(start.elapsed().as_nanos() as f64 / iterations as f64)
}

/// Warms `decide` up and returns its batch size.
fn calibrate(decide: &mut Decide<'_>, plan: &Plan) -> anyhow::Result<u64> {
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < plan.warmup {
        black_box(decide()?);
        n += 1;
    }
    let per_decision = start.elapsed().as_nanos() as f64 / n as f64;
    Ok(((plan.batch.as_nanos() as f64 / per_decision).ceil() as u64).max(1))
}

/// The `q` quantile (0..=1) of sorted `samples`.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Races `decides` (one per engine) and returns their stats, in order.
pub fn race(decides: &mut [Decide<'_>], plan: &Plan) -> anyhow::Result<Vec<Stats>> {
    let batches = decides
        .iter_mut()
        .map(|d| calibrate(d, plan))
        .collect::<anyhow::Result<Vec<u64>>>()?;
    let n = decides.len();
    let mut samples = vec![Vec::with_capacity(plan.rounds); n];
    for round in 0..plan.rounds {
        for k in 0..n {
            let i = (round + k) % n;
            samples[i].push(sample(&mut decides[i], batches[i])?);
        }
    }
    Ok(samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            Stats {
                median: quantile(&s, 0.5),
                p10: quantile(&s, 0.1),
                p90: quantile(&s, 0.9),
            }
        })
        .collect())
}
