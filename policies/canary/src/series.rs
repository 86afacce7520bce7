//! A success criterion judged on series of samples, as Kayenta's judge
//! does: the Mann–Whitney U test says whether the canary is significantly
//! higher than the baseline, the ratio of the medians says whether the
//! difference is large enough to matter.

use shipgate_sdk::model::{Measurement, Metric};
use shipgate_sdk::prelude::*;
use shipgate_sdk::stats::{mann_whitney, median};

use crate::{Config, Judge, RULE_INCONCLUSIVE, above};

/// How a metric's success criterion is judged.
pub(crate) enum Comparison {
    /// Not two series (or the test is off): the two means decide, as
    /// always.
    Means,
    /// Two series, but too few samples for the test: the means decide, and
    /// this note (starting with a space) says so.
    TooFew(String),
    /// The test ran.
    Test(SeriesTest),
}

/// The outcome of the test on one metric, with what it is judged against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SeriesTest {
    /// p-value of "the canary is stochastically greater".
    pub p: f64,
    /// The canary's median.
    pub canary_median: f64,
    /// The baseline's median.
    pub baseline_median: f64,
    /// `series_alpha`.
    pub alpha: f64,
    /// The success ratio the medians are held to.
    pub ratio: f64,
}

impl SeriesTest {
    /// The canary is significantly higher than the baseline.
    pub fn significant(&self) -> bool {
        self.p < self.alpha
    }

    /// The canary's median is above the success ratio times the baseline's
    /// (with a baseline median of 0 or less: above the baseline's median at
    /// all).
    pub fn large(&self) -> bool {
        if self.baseline_median <= 0.0 {
            self.canary_median > self.baseline_median
        } else {
            above(self.canary_median / self.baseline_median, self.ratio)
        }
    }

    /// The criterion is met unless the canary is both significantly and
    /// substantially higher.
    pub fn met(&self) -> bool {
        !(self.significant() && self.large())
    }

    /// `1.28x`, or what stands in for a ratio against a zero baseline.
    fn median_ratio(&self) -> String {
        if self.baseline_median > 0.0 {
            format!("{:.2}x", self.canary_median / self.baseline_median)
        } else {
            "baseline median is 0".to_owned()
        }
    }

    /// `p=0.003`, with enough digits not to seem on the wrong side of alpha.
    fn p_text(&self) -> String {
        if self.p < 0.001 {
            return "p<0.001".to_owned();
        }
        let short = format!("{:.3}", self.p);
        let shown: f64 = short.parse().unwrap_or(self.p);
        if (shown < self.alpha) == self.significant() {
            format!("p={short}")
        } else {
            format!("p={:.5}", self.p)
        }
    }

    /// `p=0.003, median 231 ms vs 180 ms baseline (1.28x)`.
    pub fn observed(&self, show: &dyn Fn(f64) -> String) -> String {
        format!(
            "{}, median {} vs {} baseline ({})",
            self.p_text(),
            show(self.canary_median),
            show(self.baseline_median),
            self.median_ratio()
        )
    }

    /// `p >= 0.05 or median <= 1.10x baseline`.
    pub fn expected(&self) -> String {
        format!(
            "p >= {} or median <= {:.2}x baseline",
            self.alpha, self.ratio
        )
    }
}

/// How `metric`'s success criterion (canary at most `ratio` times the
/// baseline) is to be judged under `config`.
pub(crate) fn compare(metric: &Metric, config: &Config, ratio: f64) -> Comparison {
    if !config.series_test {
        return Comparison::Means;
    }
    let (Measurement::Samples(canary), Measurement::Samples(baseline)) =
        (&metric.canary, &metric.baseline)
    else {
        return Comparison::Means;
    };
    let finite =
        |xs: &[f64]| -> Vec<f64> { xs.iter().copied().filter(|x| x.is_finite()).collect() };
    let (canary, baseline) = (finite(canary), finite(baseline));
    let min = config.series_min_samples;
    if canary.len() < min as usize || baseline.len() < min as usize {
        return Comparison::TooFew(format!(
            " (judged on the means: {} canary and {} baseline samples, fewer than the {min} \
             the Mann–Whitney test needs, series_min_samples)",
            canary.len(),
            baseline.len()
        ));
    }
    match (
        mann_whitney(&canary, &baseline),
        median(&canary),
        median(&baseline),
    ) {
        (Ok(test), Ok(canary_median), Ok(baseline_median)) => Comparison::Test(SeriesTest {
            p: test.p_greater,
            canary_median,
            baseline_median,
            alpha: config.series_alpha,
            ratio,
        }),
        // Not reached: both series are finite and not empty.
        _ => Comparison::Means,
    }
}

impl Judge<'_> {
    /// Records the criterion of metric `name` judged by `test`: met, or an
    /// `inconclusive` hold. `worse` says how the canary is worse ("above",
    /// "slower than"), `show` formats a value of the metric.
    pub(crate) fn series_criterion(
        &mut self,
        name: &str,
        test: &SeriesTest,
        worse: &str,
        show: &dyn Fn(f64) -> String,
    ) {
        let observed = test.observed(show);
        if test.met() {
            let why = if test.significant() {
                format!(
                    "significant, but the median is within {:.2}x of the baseline's",
                    test.ratio
                )
            } else {
                format!(
                    "not significantly {worse} the baseline (alpha {})",
                    test.alpha
                )
            };
            self.met
                .push(format!("{name} (Mann–Whitney) {observed}: {why}"));
            return;
        }
        let size = if test.baseline_median > 0.0 {
            format!(
                "its median is {} the baseline's, above {:.2}x",
                test.median_ratio(),
                test.ratio
            )
        } else {
            format!(
                "its median {} is above the baseline's {}",
                show(test.canary_median),
                show(test.baseline_median)
            )
        };
        self.unmet.push(
            Finding::hold(
                RULE_INCONCLUSIVE,
                format!(
                    "canary {name} is significantly {worse} the baseline (Mann–Whitney {}, \
                     alpha {}) and {size}: not yet a success",
                    test.p_text(),
                    test.alpha
                ),
            )
            .evidence(observed, test.expected())
            .metric(name),
        );
    }
}
